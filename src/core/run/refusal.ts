/**
 * Why a run did not start, as data: every surface (the answer panel's toast, a chat response)
 * presents the same refusal with the same actions, and callers know exactly what happened.
 * A refusal means nothing of the run was sent, and its message says so once; the one exception is
 * `estimate-failed`, where the budget-estimate call itself failed (its spend is in the ledger).
 */

/** What the user can do about a refusal; each surface maps an action to a button. */
export const REFUSAL_ACTIONS = {
  'set-api-key': { title: 'Set API Key', command: 'budgetReasoner.setApiKey' },
  'use-local-endpoint': { title: 'Use a Local Endpoint', command: 'workbench.action.openSettings', args: ['budgetReasoner.baseUrl'] },
  'select-model': { title: 'Select Model', command: 'budgetReasoner.selectModel' },
  'raise-budget': { title: 'Raise Budget', command: 'budgetReasoner.budgetMenu' },
  'raise-daily-cap': { title: 'Raise Daily Cap', command: 'budgetReasoner.budgetMenu' },
  'edit-cascade': { title: 'Edit Cascade', command: 'workbench.action.openSettings', args: ['budgetReasoner.cascade'] },
} as const satisfies Record<string, { title: string; command: string; args?: readonly string[] }>;

export type RefusalAction = keyof typeof REFUSAL_ACTIONS;

export const REFUSAL_KINDS = ['bad-question', 'no-key', 'model-missing', 'too-long', 'cap', 'cascade-config', 'declined', 'estimate-failed'] as const;
export type RefusalKind = typeof REFUSAL_KINDS[number];

export interface Refusal {
  kind: RefusalKind;
  /** What happened and what to do, ending with "Nothing was sent." */
  message: string;
  actions: RefusalAction[];
  /** The endpoint a `no-key` refusal is about. */
  baseUrl?: string;
  /** A cascade refusal names the model (1-based position in `budgetReasoner.cascade`). */
  tier?: number;
  /** The cap a `cap` refusal is about (SpendCaps key). */
  cap?: string;
}

export const NOTHING_SENT = 'Nothing was sent.';

/** A refusal whose message ends with "Nothing was sent." exactly once. */
export function refusal(kind: RefusalKind, text: string, actions: RefusalAction[] = [], extra: Pick<Refusal, 'baseUrl' | 'tier' | 'cap'> = {}): Refusal {
  const trimmed = text.trim();
  const message = trimmed.endsWith(NOTHING_SENT) ? trimmed : `${trimmed} ${NOTHING_SENT}`;
  return { kind, message, actions, ...extra };
}

/** The cap refusals of `grant()` say "Not sent: ..." already; their actions depend on the cap. */
export function capRefusal(message: string, cap?: string): Refusal {
  const daily = cap ? cap.startsWith('daily') : /daily/.test(message);
  return { kind: 'cap', message, actions: [daily ? 'raise-daily-cap' : 'raise-budget'], ...(cap ? { cap } : {}) };
}
