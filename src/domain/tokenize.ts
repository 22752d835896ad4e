// Graph's tokenized $search: a display name is split into words at spaces and symbols, at letter/digit
// boundaries and where a lowercase letter is followed by an uppercase one ("AnnieSmith2" → annie, smith, 2).
// A search term matches when each of its own tokens is a prefix of some token of the value.

const isLetter = (c: string) => /\p{L}/u.test(c);
const isDigit = (c: string) => /\p{Nd}/u.test(c);
const isLower = (c: string) => c !== c.toUpperCase() && c === c.toLowerCase();
const isUpper = (c: string) => c !== c.toLowerCase() && c === c.toUpperCase();

export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let prev = '';
  const flush = () => {
    if (current) tokens.push(current.toLowerCase());
    current = '';
  };
  for (const c of text) {
    if (!isLetter(c) && !isDigit(c)) {
      flush();
    } else if (current && ((isLetter(prev) && isDigit(c)) || (isDigit(prev) && isLetter(c)) || (isLower(prev) && isUpper(c)))) {
      flush();
      current = c;
    } else {
      current += c;
    }
    prev = c;
  }
  flush();
  return [...new Set(tokens)];
}
