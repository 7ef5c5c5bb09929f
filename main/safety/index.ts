/**
 * The safety engine: parses shell commands (tree-sitter-bash; tokenizers for fish and PowerShell),
 * sees through wrappers, rates what actually runs, maps the rating to an action through the
 * safety level and policy, and redacts secrets.
 */
export { analyzeCommand, explainCommand, initSafety, isSafetyReady } from './analyze'
export type { AnalyzeOptions } from './analyze'
export { formatBreakdown } from './format'
export { LEVEL_ACTIONS, parsePolicy, policySchema, type Policy, type PolicyRule } from './policy'
export { findSecrets, redactSecrets } from './secrets'
export type {
  CommandBreakdown,
  RedactionResult,
  Risk,
  SafetyLevel,
  ShellDialect,
  Verdict,
} from '../../contract/safety'
