import { resolve } from 'node:path'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

/**
 * The admin console (served by the sync server at /admin/), built from this folder into
 * `<out>/console-ui` beside the app's build (`CMDAI_OUT_DIR` moves both, as for electron-vite).
 */
const root = import.meta.dirname
const outDir = resolve(root, '..', '..', process.env.CMDAI_OUT_DIR || 'out', 'console-ui')

export default defineConfig({
  root,
  base: '/admin/',
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      // zod's sources carry comments Rollup cannot place (harmless; it drops them).
      onwarn: (warning, warn) => {
        if (warning.code !== 'INVALID_ANNOTATION') warn(warning)
      },
    },
    chunkSizeWarningLimit: 1_500,
    reportCompressedSize: false,
  },
})
