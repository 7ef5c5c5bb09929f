import react from '@vitejs/plugin-react'
import { defineConfig } from 'electron-vite'
import { resolve } from 'node:path'

// CMDAI_OUT_DIR lets parallel builds (test runs side by side) write to their own folders.
const outDir = process.env.CMDAI_OUT_DIR || 'out'

export default defineConfig({
  main: {
    build: {
      outDir: `${outDir}/main`,
      rollupOptions: { input: { index: resolve('main/index.ts') } },
    },
  },
  preload: {
    build: {
      outDir: `${outDir}/preload`,
      // A sandboxed preload cannot load ESM or node_modules: one self-contained CommonJS file.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('renderer'),
    plugins: [react()],
    build: {
      outDir: resolve(outDir, 'renderer'),
      rollupOptions: { input: { index: resolve('renderer/index.html') } },
    },
  },
})
