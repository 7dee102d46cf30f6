import * as vscode from 'vscode';
import type { Settings } from '../core/config';
import { parseSettings, type ParsedSettings } from '../core/config';

export const SECTION = 'budgetReasoner';
const KEYS: (keyof Settings)[] = ['baseUrl', 'model', 'requestBudget', 'requestCapUsd', 'dailyCapUsd', 'dailyTokenCap',
  'strategy', 'estimator', 'stoppingRule', 'confidenceThreshold', 'prices', 'cascade', 'chatModel'];

/**
 * Reads and validates the settings. baseUrl and model are application-scoped in package.json,
 * so a workspace's settings cannot redirect requests (and the user's key) elsewhere.
 */
export function readSettings(): ParsedSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const raw: Partial<Record<keyof Settings, unknown>> = {};
  for (const key of KEYS) {
    raw[key] = config.get(key);
  }
  return parseSettings(raw);
}

export async function updateSetting(key: keyof Settings, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update(key, value, vscode.ConfigurationTarget.Global);
}

export const CONFIRM_SETTING = 'confirmAboveUsd';
const DEFAULT_CONFIRM_ABOVE_USD = 0.1;

/** `budgetReasoner.confirmAboveUsd`: ask before runs whose worst case is above it (0 = never ask). */
export function confirmAboveUsd(): number {
  const v = vscode.workspace.getConfiguration(SECTION).get<unknown>(CONFIRM_SETTING);
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : DEFAULT_CONFIRM_ABOVE_USD;
}
