/** Token counts and dollars as people read them, wherever they are shown: meter, panel, chat, log, messages. */

export function formatTokens(n: number): string {
  if (n < 1000) {
    return String(Math.round(n));
  }
  if (n < 10_000) {
    return `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  }
  if (n < 1_000_000) {
    return `${Math.round(n / 1000)}k`;
  }
  return `${(n / 1e6).toFixed(1).replace(/\.0$/, '')}M`;
}

/**
 * Dollars, everywhere they are shown: "$0", "$0.0031" (four decimals below a cent), "$1.50",
 * "$120" (whole dollars from $100); "$?" when unknown, "+?" after it when some calls had no price.
 */
export function formatDollars(d: number | null, unpriced = false): string {
  if (d === null) {
    return '$?';
  }
  const s = d === 0 ? '$0' : d < 0.01 ? `$${d.toFixed(4)}` : d < 100 ? `$${d.toFixed(2)}` : `$${Math.round(d)}`;
  return unpriced ? `${s}+?` : s;
}

/**
 * formatDollars with two significant digits below a cent, so a cheap model's share does not read
 * "$0.0000": "$0.000018", "$0.0031", "$0.25", "$12.50".
 */
export function preciseDollars(d: number): string {
  if (d >= 0.01 || d <= 0) {
    return d <= 0 ? '$0' : formatDollars(d);
  }
  const decimals = Math.min(8, 1 - Math.floor(Math.log10(d)));
  const s = d.toFixed(decimals);
  return Number(s) === 0 ? `<$${(10 ** -decimals).toFixed(decimals)}` : `$${s}`;
}
