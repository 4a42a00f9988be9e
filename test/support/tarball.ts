/**
 * Checks on a packed tarball's file list: every node registered in package.json has its
 * compiled .js and its .html beside it, every icon a node's editor asks for is shipped
 * in the icons/ folder beside it (where Node-RED looks), and every script a form loads from
 * the package (<script src="resources/<package name>/<file>">) is shipped in resources/ (the
 * editor waits for each such script: a missing one stops the whole editor loading).
 */
import * as path from 'path';

export interface TarballProblem {
  file: string;
  problem: string;
}

/** `files`: paths inside the package (no leading "package/"); `readText` reads a shipped file. */
export function checkTarballFiles(
  packageName: string,
  nodes: Record<string, string>,
  files: Set<string>,
  readText: (file: string) => string,
): { problems: TarballProblem[]; types: string[]; icons: string[]; scripts: string[] } {
  const problems: TarballProblem[] = [];
  const types: string[] = [];
  const icons: string[] = [];
  const scripts: string[] = [];
  for (const [name, js] of Object.entries(nodes)) {
    const jsFile = path.posix.normalize(js);
    if (!files.has(jsFile)) {
      problems.push({ file: jsFile, problem: `node "${name}": compiled file missing from the tarball` });
      continue;
    }
    const html = jsFile.replace(/\.js$/, '.html');
    if (!files.has(html)) {
      problems.push({ file: html, problem: `node "${name}": editor .html missing from the tarball` });
      continue;
    }
    const text = readText(html);
    for (const m of text.matchAll(/RED\.nodes\.registerType\(\s*['"]([^'"]+)['"]/g)) types.push(m[1]);
    for (const m of text.matchAll(/\bicon\s*:\s*['"]([^'"]+)['"]/g)) {
      const icon = m[1];
      // Only the package's own icon files; core ones are "font-awesome/fa-x" or "node-red/x.svg".
      if (icon.includes('/') || !/^[\w.-]+\.(svg|png)$/.test(icon)) continue;
      const iconPath = path.posix.join(path.posix.dirname(html), 'icons', icon);
      icons.push(iconPath);
      if (!files.has(iconPath)) problems.push({ file: iconPath, problem: `node "${name}": icon "${icon}" missing from the tarball` });
    }
    for (const m of text.matchAll(/<script\b[^>]*\bsrc="([^"]*)"/g)) {
      const src = m[1];
      const prefix = `resources/${packageName}/`;
      if (!src.startsWith(prefix)) {
        problems.push({ file: html, problem: `node "${name}": <script src="${src}"> is not a relative URL into the package's resources/ (${prefix}<file>)` });
        continue;
      }
      const script = path.posix.join('resources', src.slice(prefix.length));
      if (!scripts.includes(script)) scripts.push(script);
      if (!files.has(script)) problems.push({ file: script, problem: `node "${name}": script ${src} missing from the tarball` });
    }
  }
  return { problems, types, icons, scripts };
}
