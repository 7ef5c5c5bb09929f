import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { createApi } from './api/client'
import { createSocketBridge } from './api/socket-bridge'
import { App } from './components/App'
import './styles.css'

// Electron's preload provides window.cmdai; in browser mode the same contract runs over a socket.
const socket = window.cmdai ? null : createSocketBridge()
const api = createApi(window.cmdai ?? socket!)
const connection = socket
  ? {
      get state() {
        return socket.state
      },
      subscribe: (cb: () => void) => socket.onState(cb),
    }
  : undefined

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App api={api} connection={connection} />
  </StrictMode>,
)
