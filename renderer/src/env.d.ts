import type { CmdaiBridge } from '../../contract'

declare global {
  interface Window {
    /** Set by the Electron preload; absent in browser mode, where the socket bridge is used. */
    cmdai?: CmdaiBridge
  }
}

export {}
