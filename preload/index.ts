import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import type { CmdaiBridge, EventName, Events } from '../contract'
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../contract/transport'

// The renderer gets exactly this object: two functions, no ipcRenderer, no Node.
const bridge = {
  invoke: (channel, args) => ipcRenderer.invoke(IPC_INVOKE_CHANNEL, channel, args),
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void) {
    const handler = (_e: IpcRendererEvent, name: string, payload: unknown) => {
      if (name === event) listener(payload as Events[E])
    }
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler)
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, handler)
    }
  },
} satisfies CmdaiBridge

contextBridge.exposeInMainWorld('cmdai', bridge)
