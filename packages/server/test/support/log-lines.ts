/**
 * The top-level keys of one JSON log line that appear more than once. JSON.parse keeps the last of each silently, so
 * a line such as `{"partition":3,"partition":3}` (a child logger's binding named again in the call) is read here.
 */
export function duplicateTopLevelKeys(line: string): string[] {
  const seen = new Set<string>();
  const dups: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      // A string at depth 1 followed by a colon is a key of the line's own object.
      if (depth === 1 && line[j + 1] === ':') {
        const key = line.slice(i + 1, j);
        if (seen.has(key)) dups.push(key);
        seen.add(key);
      }
      i = j;
    }
  }
  return dups;
}
