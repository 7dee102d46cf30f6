/**
 * An @budget request that sends code (a `#selection`, a `#file`, the editor's selection): the
 * reference reads as where the code is from, and a reference with no question around it
 * (`@budget #selection`, `/budget 2000 #file:x.ts`) asks to explain the code.
 */
import { ACTION_QUESTIONS, type SelectionAction } from '../reasoning/answerKinds';
import { parseChatAsk, type ChatAsk } from './chatReport';

/**
 * `prompt`: the request with the sent reference replaced by where its code is from; `promptWithout`:
 * the request without it.
 */
export function chatAskAboutCode(command: string | undefined, prompt: string, promptWithout: string): { ask: ChatAsk; action?: SelectionAction } {
  const explain = parseChatAsk(command, `${promptWithout.trim()} ${ACTION_QUESTIONS.explain}`);
  if ((explain.kind === 'reason' || explain.kind === 'estimate') && explain.question === ACTION_QUESTIONS.explain) {
    return { ask: explain, action: 'explain' };
  }
  return { ask: parseChatAsk(command, prompt) };
}
