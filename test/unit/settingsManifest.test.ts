import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  ANSWER_KIND_SETTINGS, CHAT_MODEL_CHOICES, LEVER_SETTINGS, ESTIMATOR_MODES, PREFERENCE_EXAMPLE_MODES, SELECTOR_NAMES, STOPPING_RULE_NAMES, STRATEGY_NAMES, defaultSettings, type Settings,
} from '../../src/core/config';

/** The settings VS Code shows (package.json) and the ones the code validates (config.ts) must agree. */

const root = path.join(__dirname, '..', '..');
const PREFIX = 'budgetReasoner.';

interface ManifestSetting {
  default?: unknown;
  enum?: unknown[];
  enumDescriptions?: string[];
}

const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, ManifestSetting> } };
};
const contributed = new Map(Object.entries(manifest.contributes.configuration.properties)
  .filter(([key]) => key.startsWith(PREFIX))
  .map(([key, value]) => [key.slice(PREFIX.length), value]));

/** Settings in package.json that are not fields of Settings, and why. */
const NOT_IN_SETTINGS: Record<string, string> = {};

/** Every enum setting and the core list it must equal, in order. */
const ENUMS: Partial<Record<keyof Settings, readonly string[]>> = {
  strategy: STRATEGY_NAMES,
  estimator: ESTIMATOR_MODES,
  stoppingRule: STOPPING_RULE_NAMES,
  chatModel: CHAT_MODEL_CHOICES,
  answerKind: ANSWER_KIND_SETTINGS,
  selector: SELECTOR_NAMES,
  budgetLevers: LEVER_SETTINGS,
  preferenceExamples: PREFERENCE_EXAMPLE_MODES,
};

const settingKeys = Object.keys(defaultSettings) as (keyof Settings)[];

describe('settings: package.json and config.ts agree', () => {
  it('every setting in config.ts is contributed in package.json', () => {
    assert.deepEqual(settingKeys.filter((key) => !contributed.has(key)), []);
  });

  it('every contributed setting is in config.ts, or a listed exception', () => {
    const extra = [...contributed.keys()].filter((key) => !(key in defaultSettings));
    assert.deepEqual(extra.sort(), Object.keys(NOT_IN_SETTINGS).sort());
  });

  for (const key of settingKeys) {
    it(`${PREFIX}${key} has the default of defaultSettings`, () => {
      assert.deepEqual(contributed.get(key)?.default, defaultSettings[key]);
    });
  }

  it('every enum in package.json is one of the core lists, value for value and in order', () => {
    const withEnum = [...contributed].filter(([, s]) => s.enum !== undefined).map(([key]) => key);
    assert.deepEqual(withEnum.sort(), Object.keys(ENUMS).sort());
    for (const [key, list] of Object.entries(ENUMS)) {
      const setting = contributed.get(key)!;
      assert.deepEqual(setting.enum, [...list!], key);
      assert.equal(setting.enumDescriptions?.length, list!.length, `${key}: one description per value`);
    }
  });

  it("the README's settings table gives the same defaults", () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `(\w+)` \| `([^`]*)` \|/gm)];
    assert.ok(rows.length >= 10, 'the README has a settings table');
    for (const [, key, shown] of rows) {
      const setting = contributed.get(key);
      assert.ok(setting, `the README lists ${key}, which package.json does not contribute`);
      let value: unknown = shown;
      try {
        value = JSON.parse(shown);
      } catch {
        // a plain word such as auto
      }
      assert.deepEqual(value, setting.default, `${key}: README says ${shown}`);
    }
  });
});
