/**
 * Checks on a packed tarball's file list: every node registered in package.json has its
 * compiled .js and its .html beside it, and every icon a node's editor asks for is shipped
 * in the icons/ folder beside it (where Node-RED looks).
 */
import * as path from 'path';

export interface TarballProblem {
  file: string;
  problem: string;
}

/** `files`: paths inside the package (no leading "package/"); `readText` reads a shipped file. */
export function checkTarballFiles(
  nodes: Record<string, string>,
  files: Set<string>,
  readText: (file: string) => string,
): { problems: TarballProblem[]; types: string[]; icons: string[] } {
  const problems: TarballProblem[] = [];
  const types: string[] = [];
  const icons: string[] = [];
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
  }
  return { problems, types, icons };
}
