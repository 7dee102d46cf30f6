import type { CalibrationExample } from './calibration';

/** Reads a JSONL of {question, answer} pairs; names the first bad line. */
export function parseExamples(text: string): CalibrationExample[] {
  const examples: CalibrationExample[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) {
      return;
    }
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new Error(`line ${i + 1} is not JSON`);
    }
    const r = row as { question?: unknown; answer?: unknown };
    if (typeof r.question !== 'string' || (typeof r.answer !== 'string' && typeof r.answer !== 'number')) {
      throw new Error(`line ${i + 1} needs "question" and "answer"`);
    }
    examples.push({ question: r.question, answer: String(r.answer) });
  });
  if (!examples.length) {
    throw new Error('no examples in the file');
  }
  return examples;
}
