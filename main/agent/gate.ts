import type { ShellDialect, Verdict } from '../../contract/safety'
import { analyzeCommand, initSafety } from '../safety/analyze'
import { hostPlatform, loadSafetyConfig } from '../safety/config'

/**
 * Judges a command an agent wants to run exactly as the user's own: the safety level from
 * settings.json and the policy from policy.json through the one reader every surface uses
 * (main/safety/config.ts; an unreadable settings file means the strict level, a broken policy is
 * an error the caller turns into a refusal), on this machine's platform.
 */
export async function judge(
  command: string,
  shell: ShellDialect,
  dataDir: string,
): Promise<Verdict> {
  await initSafety()
  const { level, policy } = loadSafetyConfig(dataDir)
  return analyzeCommand(command, { shell, level, policy, platform: hostPlatform() })
}
