import { build } from 'esbuild';
import { packageFile } from '../../lib/package-files';

/** The console's browser app: one script and one style sheet, served by the console's server. */
export interface ConsoleAssets {
  readonly script: string;
  readonly style: string;
  /** The page, loading the script and style with the token in their addresses. */
  html(token: string): string;
}

// Shipped as source in the package too: bundled for the browser when the console first starts.
const ENTRY = packageFile('local/ui/app/main.tsx');

let bundled: Promise<ConsoleAssets> | undefined;

/**
 * Bundles the browser app (Preact components under `app/`) with esbuild, in memory, once per
 * process: everything it needs is in the project's node_modules, nothing is fetched at run time.
 */
export function bundleConsoleApp(): Promise<ConsoleAssets> {
  bundled ??= build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: 'out',
    logLevel: 'silent',
    legalComments: 'none',
  }).then((result) => {
    const file = (extension: string) => result.outputFiles.find((f) => f.path.endsWith(extension))?.text ?? '';
    const script = file('.js');
    const style = file('.css');
    return {
      script,
      style,
      html: (token) => page(token),
    };
  });
  return bundled;
}

function page(token: string): string {
  const query = `?token=${encodeURIComponent(token)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sluice console</title>
<link rel="stylesheet" href="/app.css${query}">
<script type="module" src="/app.js${query}"></script>
</head>
<body><div id="app"></div></body>
</html>
`;
}
