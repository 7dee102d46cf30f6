import * as vscode from 'vscode';
import type { Settings } from '../core/config';
import { defaultSettings, parseSettings, type ParsedSettings } from '../core/config';

export const SECTION = 'budgetReasoner';
const KEYS = Object.keys(defaultSettings) as (keyof Settings)[];

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

