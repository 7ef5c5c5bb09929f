import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect, shot, terminalText, test } from './fixtures'

/**
 * A coding agent (the MCP SDK's own client, over stdio, against the real `cmdai mcp`) asks to run a
 * command the policy wants confirmed; the running app (browser mode) shows it; the user approves it
 * from the keyboard; the agent's call returns the command's output; the Agents view shows it.
 */
test('an agent’s command waits for the user in the app, is approved there, and returns its output', async ({
  app: { page, home, dataDir },
}) => {
  await expect.poll(() => terminalText(page)).toContain('@cmdai:')
  // As a user would: the app is up (its history open) before the agent starts working.
  await expect(page.getByRole('contentinfo', { name: 'Status' })).toContainText('history: ready', {
    timeout: 60_000,
  })
  const project = join(home, 'project')
  mkdirSync(join(project, 'build'), { recursive: true })

  const agent = new Client({ name: 'e2e-agent', version: '1.0.0' })
  await agent.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: ['bin/cmdai.mjs', 'mcp', '--cwd', project],
      env: { ...(process.env as Record<string, string>), CMDAI_DATA_DIR: dataDir, HOME: home },
      stderr: 'pipe',
    }),
  )
  try {
    const call = agent.callTool({
      name: 'run_command',
      arguments: { command: 'rm -rf ./build && echo "build cleaned"' },
    })

    const notice = page.getByTestId('agent-approval')
    // The call must still be waiting when the request shows up (not refused, not run).
    const early = await Promise.race([
      call.then((settled) => ({ settled })),
      notice.waitFor({ state: 'visible', timeout: 60_000 }).then(() => null),
    ])
    if (early) throw new Error(`The agent's call ended first: ${JSON.stringify(early.settled)}`)
    await expect(notice).toContainText('e2e-agent wants to run')
    await expect(notice).toContainText('rm -rf ./build')
    await expect(notice).toContainText('High risk')
    await shot(page, 'agent-approval-waiting')

    // Typing in the terminal decides nothing; the shortcut moves the keyboard to the request.
    await page.locator('.terminal-pane:not([hidden]) .xterm').click()
    await page.keyboard.press('Enter')
    await expect(notice).toBeVisible()
    await page.keyboard.press('Control+Shift+A')
    await expect(notice).toBeFocused()
    await page.keyboard.press('Enter')
    await expect(notice).toContainText('Press Enter again')
    await shot(page, 'agent-approval-confirm')
    await page.keyboard.press('Enter')
    await expect(notice).toBeHidden()

    const result = (await call) as {
      isError?: boolean
      structuredContent?: { status: string; stdout: string; approvedBy: string }
    }
    expect(result.isError).toBeFalsy()
    expect(result.structuredContent).toMatchObject({
      status: 'ran',
      approvedBy: 'user',
      stdout: 'build cleaned\n',
    })

    // The Agents view of the history panel shows it, approved.
    await page.keyboard.press('Control+r')
    const panel = page.getByTestId('history-panel')
    await expect(panel).toBeVisible()
    await panel.getByRole('tab', { name: 'Agents' }).click()
    const row = panel.getByRole('option').filter({ hasText: 'rm -rf ./build' })
    await expect(row).toContainText('approved by you')
    await expect(row).toContainText('e2e-agent')
    await shot(page, 'history-agents-view')
  } finally {
    await agent.close()
  }
})
