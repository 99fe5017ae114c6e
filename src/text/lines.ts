/** The whole line around an index, trimmed (a short match reads better in its sentence). */
export function lineAt(text: string, index: number, max = 300): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return text
    .slice(start, end === -1 ? undefined : end)
    .trim()
    .slice(0, max);
}
