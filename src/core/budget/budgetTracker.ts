/**
 * What the model is told about its budget: TALE's budget line, and a BATS-style tracker block
 * with a policy by how much is left.
 */

/** TALE's budget-in-prompt line (arXiv 2412.18547). */
export function budgetPromptLine(budgetTokens: number): string {
  return `Let's think step by step and use less than ${Math.max(1, Math.round(budgetTokens))} tokens:`;
}

export type BudgetLevel = 'HIGH' | 'MEDIUM' | 'LOW' | 'CRITICAL';

/** HIGH >= 70% left, MEDIUM 30-70%, LOW 10-30%, CRITICAL < 10% (BATS, arXiv 2511.17006). */
export function budgetLevel(usedTokens: number, totalTokens: number): BudgetLevel {
  const left = totalTokens > 0 ? Math.max(0, totalTokens - usedTokens) / totalTokens : 0;
  if (left >= 0.7) {
    return 'HIGH';
  }
  if (left >= 0.3) {
    return 'MEDIUM';
  }
  if (left >= 0.1) {
    return 'LOW';
  }
  return 'CRITICAL';
}

const POLICY: Record<BudgetLevel, string> = {
  HIGH: 'Make the best use of the available resources; you may explore alternatives.',
  MEDIUM: 'Make the best use of the available resources; prefer the most promising approach.',
  LOW: 'Budget is low: finish the current line of reasoning and state the answer soon.',
  CRITICAL: 'Budget is almost spent: give the final answer now, in \\boxed{}.',
};

/** The tracker block appended to the prompt after each step. */
export function budgetTrackerBlock(usedTokens: number, totalTokens: number): string {
  const used = Math.max(0, Math.round(usedTokens));
  const left = Math.max(0, Math.round(totalTokens - usedTokens));
  const level = budgetLevel(usedTokens, totalTokens);
  return `<budget>Tokens used: ${used}, Tokens remaining: ${left} (${level}). ${POLICY[level]}</budget>`;
}
