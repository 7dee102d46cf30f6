/**
 * Inline thinking: llama.cpp without a reasoning format and many R1 distills stream their thinking
 * inside the content, between `<think>` and `</think>`. The splitter routes a stream of content
 * chunks into thinking and visible parts as they arrive, a tag split across chunks included: it holds
 * back at most a tag's length of text that could still be the start of a tag.
 */

const OPEN = '<think>';
const CLOSE = '</think>';

export interface ThinkSegment {
  thinking: boolean;
  text: string;
}

export class ThinkTagSplitter {
  private inThinking = false;
  private pending = '';

  /** The segments of this chunk that are certain now; a possible partial tag waits for the next chunk. */
  feed(chunk: string): ThinkSegment[] {
    const out: ThinkSegment[] = [];
    let text = this.pending + chunk;
    this.pending = '';
    for (;;) {
      const tag = this.inThinking ? CLOSE : OPEN;
      const at = text.indexOf(tag);
      if (at >= 0) {
        this.push(out, text.slice(0, at));
        this.inThinking = !this.inThinking;
        text = text.slice(at + tag.length);
        continue;
      }
      // Keep back the longest suffix that is a prefix of the tag we wait for.
      const keep = partialTagLength(text, tag);
      this.push(out, text.slice(0, text.length - keep));
      this.pending = text.slice(text.length - keep);
      return out;
    }
  }

  /** What was held back, at the end of the stream. */
  flush(): ThinkSegment[] {
    const out: ThinkSegment[] = [];
    this.push(out, this.pending);
    this.pending = '';
    return out;
  }

  private push(out: ThinkSegment[], text: string): void {
    if (!text) {
      return;
    }
    const last = out[out.length - 1];
    if (last && last.thinking === this.inThinking) {
      last.text += text;
    } else {
      out.push({ thinking: this.inThinking, text });
    }
  }
}

function partialTagLength(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (tag.startsWith(text.slice(text.length - n))) {
      return n;
    }
  }
  return 0;
}

/**
 * A whole reply's thinking and visible text. Besides tagged sections (closed, or open to the end), a
 * `</think>` with no `<think>` before it closes thinking that began before the reply (a chat template
 * that opened the tag in the prompt): what precedes it is thinking.
 */
export function splitThinking(text: string): { thinking: string; reply: string } {
  const close = text.indexOf(CLOSE);
  const open = text.indexOf(OPEN);
  const orphan = close >= 0 && (open < 0 || close < open);
  const splitter = new ThinkTagSplitter();
  const rest = orphan ? text.slice(close + CLOSE.length) : text;
  const segments = [...splitter.feed(rest), ...splitter.flush()];
  const join = (thinking: boolean) => segments.filter((s) => s.thinking === thinking).map((s) => s.text).join('');
  return { thinking: (orphan ? text.slice(0, close) : '') + join(true), reply: join(false) };
}
