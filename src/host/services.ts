import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { MeterState } from '../core/view/meterView';
import type { Settings } from '../core/config';
import { isLocalEndpoint } from '../core/config';
import { LocalBudgetEstimator, type LocalEstimatorState } from '../core/budget/localEstimator';
import { TokenRatios, type TokenRatioState } from '../core/budget/tokenRatio';
import { FirstChainHistory } from '../core/reasoning/firstChainHistory';
import { PreferencePairs } from '../core/reasoning/preferenceExamples';
import { FileSpendLedger, skippedLines, type LedgerStatus } from '../core/ledger/fileSpendLedger';
import { SharedReservations } from '../core/ledger/sharedReservations';
import type { LedgerTotals } from '../core/ledger/spendLedger';
import { describePrice, priceLookup, type PriceLookup } from '../core/tokens/prices';
import { TokenCounter } from '../core/tokens/tokenCounter';
import { ApiKeyStore } from './apiKeys';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';
import { readSettings } from './settings';
import { StatusBarMeter } from './statusBarMeter';

const LEDGER_FILE = 'spend.jsonl';
/** What the extension learns from the user's own calls: the local estimator's runs and the models' token ratios. */
const ESTIMATOR_FILE = 'local-estimator.json';

/** The learned file; files written before token ratios were learned have none. */
type LearnedState = LocalEstimatorState & { tokenRatios?: TokenRatioState };
/** Per model: how often later chains confirmed its first chains (firstChainHistory.ts). */
const FIRST_CHAIN_FILE = 'first-chain-history.json';
/** The user's preference pairs (question and chain texts), beside the local estimator's data; only with `preferenceExamples` on. */
const PREFERENCE_PAIRS_FILE = 'preference-pairs.json';
/** How many skipped ledger lines the user has been told of (globalState). */
const LEDGER_SKIPS_TOLD = 'budgetReasoner.ledgerSkippedLinesTold';

/** The run in progress, or once it ends this window's last run (the meter's tooltip keeps it). */
export interface LiveRun {
  runId: string;
  budgetTokens: number;
  running: boolean;
}

/**
 * The extension's object graph, built on activation without loading anything heavy: the ledger,
 * tokenizer and SDK load on first use.
 */
export class Services extends Disposable {
  readonly sessionId = randomUUID();
  readonly sessionStart = new Date();
  readonly apiKeys: ApiKeyStore;
  readonly meter: StatusBarMeter;
  readonly tokens = new TokenCounter();
  private ledgerPromise: Promise<FileSpendLedger> | undefined;
  private reservations: SharedReservations | undefined;
  private learnedPromise: Promise<LearnedState | undefined> | undefined;
  private estimatorPromise: Promise<LocalBudgetEstimator> | undefined;
  private ratiosPromise: Promise<TokenRatios> | undefined;
  private historyPromise: Promise<FirstChainHistory> | undefined;
  private pairsPromise: Promise<PreferencePairs> | undefined;
  /** Models this session found to refuse a temperature: their chains go without one from then on. */
  readonly noTemperature = new Set<string>();
  private liveRun: LiveRun | undefined;
  private sessionResetAt: Date | undefined;
  private readonly spendChanged = this._register(new vscode.EventEmitter<void>());
  /** After the meter re-read the ledger (a call's spend, a settings change): the spend view redraws. */
  readonly onDidChangeSpend = this.spendChanged.event;

  constructor(readonly context: vscode.ExtensionContext, readonly log: Logger) {
    super();
    this.apiKeys = new ApiKeyStore(context.secrets);
    this.meter = this._register(new StatusBarMeter());
  }

  get storageDir(): string {
    return this.context.globalStorageUri.fsPath;
  }

  /** Calls in flight in every window sharing the ledger, so one daily cap holds across windows. */
  async sharedReservations(): Promise<SharedReservations> {
    this.reservations ??= new SharedReservations((await this.ledger()).file);
    return this.reservations;
  }

  /** The shared ledger file; a corrupt one is moved aside (never deleted) and the user told. */
  ledger(): Promise<FileSpendLedger> {
    this.ledgerPromise ??= (async () => {
      await fs.mkdir(this.storageDir, { recursive: true });
      const ledger = new FileSpendLedger(path.join(this.storageDir, LEDGER_FILE));
      this.reportLedgerStatus(await ledger.open());
      return ledger;
    })();
    return this.ledgerPromise;
  }

  private reportLedgerStatus(status: LedgerStatus): void {
    this.log.info('ledger', `${status.state}: ${status.records} records${status.tornLastLine ? ', torn last line skipped' : ''}${status.badLines ? `, ${status.badLines} bad lines skipped` : ''}`);
    // Skipped lines stay in the file; the user hears of them once, not on every start.
    const skipped = skippedLines(status);
    const told = this.context.globalState.get<number>(LEDGER_SKIPS_TOLD, 0);
    if (status.state === 'recovered' && skipped <= told) {
      return;
    }
    const tell = status.state === 'recovered' ? skipped : 0;
    if (tell !== told) {
      void this.context.globalState.update(LEDGER_SKIPS_TOLD, tell);
    }
    if (status.state !== 'ok' && status.message) {
      const show = status.state === 'recovered' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
      void show(`Budget Reasoner: ${status.message}`);
    }
  }

  /** The learned file, read once on first use; undefined when there is none or it cannot be read. */
  private learned(): Promise<LearnedState | undefined> {
    this.learnedPromise ??= (async () => {
      try {
        return JSON.parse(await fs.readFile(path.join(this.storageDir, ESTIMATOR_FILE), 'utf8')) as LearnedState;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.log.warn('estimator', `could not read the learned budgets and token ratios, starting from the priors: ${String(e)}`);
        }
        return undefined;
      }
    })();
    return this.learnedPromise;
  }

  localEstimator(): Promise<LocalBudgetEstimator> {
    this.estimatorPromise ??= (async () => {
      const state = await this.learned();
      const countTokens = (text: string) => this.tokens.countText(text, 'gpt-4o').tokens;
      try {
        return new LocalBudgetEstimator({ countTokens, state });
      } catch (e) {
        this.log.warn('estimator', `learned budgets unusable, starting from the prior: ${String(e)}`);
        return new LocalBudgetEstimator({ countTokens });
      }
    })();
    return this.estimatorPromise;
  }

  /** Billed tokens per local token of each model called, learned from the usage calls report (see core/budget/tokenRatio.ts). */
  tokenRatios(): Promise<TokenRatios> {
    this.ratiosPromise ??= this.learned().then((state) => new TokenRatios(state?.tokenRatios));
    return this.ratiosPromise;
  }

  /** Writes what was learned (budgets and token ratios, one file) after a run or a calibration. */
  async saveLearned(): Promise<void> {
    const [estimator, ratios] = await Promise.all([this.localEstimator(), this.tokenRatios()]);
    const state: LearnedState = { ...estimator.toJSON(), tokenRatios: ratios.toJSON() };
    await this.writeState(ESTIMATOR_FILE, state);
  }
  /** What each model's earlier first chains say; unreadable saved data starts it afresh (and says so in the log). */
  firstChainHistory(): Promise<FirstChainHistory> {
    this.historyPromise ??= (async () => {
      try {
        return new FirstChainHistory(JSON.parse(await fs.readFile(path.join(this.storageDir, FIRST_CHAIN_FILE), 'utf8')));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.log.warn('history', `could not read the first-chain history, starting without one: ${String(e)}`);
        }
        return new FirstChainHistory();
      }
    })();
    return this.historyPromise;
  }

  async saveFirstChainHistory(history: FirstChainHistory): Promise<void> {
    await this.writeState(FIRST_CHAIN_FILE, history.toJSON());
  }

  /**
   * The preference pairs; a file that cannot be read starts them afresh, and is kept beside (never
   * overwritten) with a warning; the estimator's and the history's files are apart, so nothing else is lost.
   */
  preferencePairs(): Promise<PreferencePairs> {
    this.pairsPromise ??= (async () => {
      const file = path.join(this.storageDir, PREFERENCE_PAIRS_FILE);
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.log.warn('examples', `could not read the preference pairs, starting without them: ${String(e)}`);
        }
        return new PreferencePairs();
      }
      try {
        const pairs = new PreferencePairs(JSON.parse(text));
        if (pairs.dropped) {
          this.log.warn('examples', `${pairs.dropped} saved preference pair${pairs.dropped === 1 ? ' was' : 's were'} unusable and left out`);
        }
        return pairs;
      } catch (e) {
        const kept = `${file}.unreadable`;
        await fs.rename(file, kept).catch(() => undefined);
        const message = `Budget Reasoner: the saved preference examples could not be read (${e instanceof Error ? e.message : String(e)}); starting without them. The file was kept as ${path.basename(kept)}; budgets, token ratios and the spend ledger are unaffected.`;
        this.log.warn('examples', message);
        void vscode.window.showWarningMessage(message);
        return new PreferencePairs();
      }
    })();
    return this.pairsPromise;
  }

  async savePreferencePairs(pairs: PreferencePairs): Promise<void> {
    await this.writeState(PREFERENCE_PAIRS_FILE, pairs.toJSON());
  }

  private async writeState(name: string, state: unknown): Promise<void> {
    await fs.mkdir(this.storageDir, { recursive: true });
    const file = path.join(this.storageDir, name);
    // Write then rename, so a crash never leaves half a file.
    await fs.writeFile(`${file}.tmp`, JSON.stringify(state));
    await fs.rename(`${file}.tmp`, file);
  }

  prices(settings: Settings): PriceLookup {
    return priceLookup({ baseUrl: settings.baseUrl, overrides: settings.prices });
  }

  setLiveRun(run: LiveRun | undefined): void {
    this.liveRun = run;
  }

  resetSession(): void {
    this.sessionResetAt = new Date();
    void this.refreshMeter();
  }

  /** Re-reads the ledger (other windows too) and redraws the meter. */
  async refreshMeter(): Promise<void> {
    const settings = readSettings().settings;
    const ledger = await this.ledger();
    await ledger.refresh();
    const since = this.sessionResetAt ?? this.sessionStart;
    const [today, month, session] = await Promise.all([ledger.today(), ledger.thisMonth(), ledger.totalsSince(since)]);
    const local = isLocalEndpoint(settings.baseUrl);
    const price = this.prices(settings)(settings.model);
    let run: MeterState['run'];
    if (this.liveRun) {
      const t = await ledger.totalsForRun(this.liveRun.runId);
      run = { tokens: t.tokens, budget: this.liveRun.budgetTokens, dollars: t.unpriced ? null : t.dollars, running: this.liveRun.running };
    }
    this.meter.update({
      run,
      session: totals(session),
      today: totals(today),
      month: totals(month),
      dailyCapUsd: settings.dailyCapUsd,
      dailyTokenCap: settings.dailyTokenCap,
      requestCapUsd: settings.requestCapUsd,
      requestBudget: settings.requestBudget,
      warnAtPercent: settings.warnAtPercent,
      model: settings.model,
      priceSource: local && price?.source === 'local' ? 'local endpoint ($0)' : describePrice(price),
      billsInDollars: !settings.model.startsWith('vscode-lm/'),
    });
    this.spendChanged.fire();
  }
}

function totals(t: LedgerTotals): { tokens: number; dollars: number; unpriced: boolean } {
  return { tokens: t.tokens, dollars: t.dollars, unpriced: t.unpriced };
}
