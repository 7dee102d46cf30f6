/**
 * The page of the answer panel (and of the spend view) and its Content-Security-Policy, as plain
 * strings: the host serves it in VS Code and the browser harness (test/webview) serves the very same
 * page and header.
 */

export interface PanelPage {
  /** The webview's cspSource (VS Code) or the harness's origin. */
  cspSource: string;
  /** A fresh crypto.randomUUID() per page load. */
  nonce: string;
  /** Stylesheets in order (KaTeX's, then the panel's). */
  styles: string[];
  /** Scripts in order; each gets the nonce. */
  scripts: string[];
  title?: string;
  /** The root element's class: `panel` (the answer panel) unless given. */
  rootClass?: string;
}

/** No inline script or style, nothing remote: only our own files, nonce'd scripts, data: images. */
export function panelContentSecurityPolicy(cspSource: string, nonce: string): string {
  return `default-src 'none'; style-src ${cspSource}; font-src ${cspSource}; img-src ${cspSource} data:; script-src 'nonce-${nonce}';`;
}

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function panelHtml(page: PanelPage): string {
  const csp = panelContentSecurityPolicy(page.cspSource, page.nonce);
  const styles = page.styles.map((href) => `<link rel="stylesheet" href="${attr(href)}">`).join('\n    ');
  const scripts = page.scripts.map((src) => `<script nonce="${attr(page.nonce)}" src="${attr(src)}"></script>`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${styles}
    <title>${attr(page.title ?? 'Budget Reasoner')}</title>
  </head>
  <body>
    <main id="root" class="${attr(page.rootClass ?? 'panel')}" aria-busy="true"></main>
    ${scripts}
  </body>
</html>`;
}
