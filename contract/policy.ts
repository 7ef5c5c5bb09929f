import { z } from 'zod'
import { RISKS, SAFETY_LEVELS } from './safety'

/**
 * Team and user policy, as data: a default safety level, per-role levels, and rules that allow,
 * confirm or block commands by program, subcommand, flag, path, tag or engine rule id.
 * One schema for the app's `policy.json` and the team's policy document on the sync server
 * (`<team>/.policy`, see `contract/sync.ts`), so a synced policy is checked before it is used.
 * The engine that applies it lives in `main/safety/policy.ts`.
 */
export const policyMatchSchema = z
  .object({
    /** Program name as it runs, e.g. `kubectl` (wrappers such as sudo are seen through). */
    command: z.string().min(1).max(200).optional(),
    /** First operand of tools with subcommands, e.g. `delete` for `kubectl delete`. */
    subcommand: z.string().min(1).max(200).optional(),
    /** A flag as written, e.g. `--force` or `-f`. */
    flag: z.string().min(1).max(200).optional(),
    /** A path glob over the normalised targets: `/etc/**`, `~/.ssh/*`, `**\/prod/**`. */
    path: z.string().min(1).max(500).optional(),
    /** An engine tag: `production`, `remote`, `privileged`, `container`. */
    tag: z.string().min(1).max(100).optional(),
    /** An engine rule id or prefix: `git.push`, `fs.rm.root`. */
    ruleId: z.string().min(1).max(200).optional(),
    /** Only when the verdict is at least this risky. */
    minRisk: z.enum(RISKS).optional(),
  })
  .strict()
  .refine((m) => Object.keys(m).length > 0, { message: 'a rule must match on something' })

export const policyRuleSchema = z
  .object({
    id: z.string().min(1).max(100),
    effect: z.enum(['allow', 'confirm', 'block']),
    match: policyMatchSchema,
    /** Roles the rule applies to; every role when absent. */
    roles: z.array(z.string().min(1).max(100)).max(50).optional(),
    /** Shown to the user when the rule applies. */
    reason: z.string().max(500).optional(),
  })
  .strict()

export const policySchema = z
  .object({
    version: z.literal(1),
    level: z.enum(SAFETY_LEVELS).optional(),
    roles: z
      .record(z.string().min(1).max(100), z.object({ level: z.enum(SAFETY_LEVELS) }).strict())
      .optional(),
    rules: z.array(policyRuleSchema).max(2000).default([]),
  })
  .strict()

export type Policy = z.output<typeof policySchema>
export type PolicyRule = z.output<typeof policyRuleSchema>

/** Parses and validates a policy (e.g. JSON from disk or the team server); throws a ZodError. */
export function parsePolicy(input: unknown): Policy {
  return policySchema.parse(input)
}
