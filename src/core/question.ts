/** Checks a question before anything is sent: bad input costs nothing and gets a clear message. */

/** Characters; about 125k tokens of English. Larger selections are almost always a mistake. */
export const MAX_QUESTION_CHARS = 500_000;

export type QuestionCheck = { ok: true; question: string } | { ok: false; message: string };

export function checkQuestion(input: string | undefined): QuestionCheck {
  if (input === undefined) {
    return { ok: false, message: 'No question: select text in the editor or type a question.' };
  }
  const question = input.replace(/\r\n/g, '\n').trim();
  if (!question) {
    return { ok: false, message: 'The question is empty: select text in the editor or type a question. Nothing was sent.' };
  }
  if (question.length > MAX_QUESTION_CHARS) {
    return {
      ok: false,
      message: `The question is ${(question.length / 1e6).toFixed(1)} MB of text, more than the ${MAX_QUESTION_CHARS / 1000}k characters a request may carry. Select a smaller part. Nothing was sent.`,
    };
  }
  // Binary content pasted or selected by mistake: NULs or a high share of control characters.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
  const control = question.match(/[\u0000-\u0008\u000e-\u001f\ufffd]/g)?.length ?? 0;
  if (question.includes('\u0000') || control > Math.max(8, question.length * 0.01)) {
    return { ok: false, message: 'The selection looks like binary data, not a question. Nothing was sent.' };
  }
  return { ok: true, question };
}
