import { defineConfig } from '@playwright/test'

// Debian's Chromium (apt-get install chromium); Playwright's own browser download is not used.
const executablePath = process.env.CMDAI_CHROMIUM ?? '/usr/bin/chromium'
// With CMDAI_OUT_DIR (a build of its own), results go beside that build so parallel runs stay apart.
const runDir = process.env.CMDAI_OUT_DIR ? `${process.env.CMDAI_OUT_DIR}/` : ''

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  // Browser mode's token and socket checks do not apply to the desktop app.
  testIgnore: process.env.CMDAI_E2E_ELECTRON === '1' ? ['**/browser-mode.spec.ts'] : [],
  outputDir: `${runDir}test-results`,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['html', { open: 'never', outputFolder: `${runDir}playwright-report` }]],
  use: {
    viewport: { width: 1100, height: 680 },
    screenshot: 'on',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
})
