import { safeStorage } from 'electron'
import type { SecretCipher } from '../library/credentials'

/**
 * Team tokens encrypted with the OS keychain (macOS Keychain, libsecret/kwallet on Linux, DPAPI
 * on Windows) through Electron's safeStorage. On Linux without a secret service Electron falls
 * back to a hard-coded key (`basic_text`): that is no protection, so it counts as unavailable and
 * the tokens go to a 0600 file instead, which says what it is.
 */
export const electronCipher: SecretCipher = {
  available() {
    if (!safeStorage.isEncryptionAvailable()) return false
    const backend = process.platform === 'linux' ? safeStorage.getSelectedStorageBackend() : 'os'
    return backend !== 'basic_text' && backend !== 'unknown'
  },
  encrypt: (plain) => safeStorage.encryptString(plain),
  decrypt: (data) => safeStorage.decryptString(data),
}
