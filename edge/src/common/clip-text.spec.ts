import { isStorableText } from '@vigil/contracts';
import { clipText } from './clip-text';

describe('clipText', () => {
  it('clips text to the limit with an ellipsis, never splitting a surrogate pair', () => {
    expect(clipText('short', 10)).toBe('short');
    expect(clipText('a'.repeat(20), 10)).toBe(`${'a'.repeat(9)}…`);
    const emoji = `${'a'.repeat(8)}😀tail`; // the pair sits at units 8-9
    const clipped = clipText(emoji, 10);
    expect(clipped).toBe(`${'a'.repeat(8)}…`);
    expect(clipped.length).toBeLessThanOrEqual(10);
    expect(isStorableText(clipped)).toBe(true);
  });

  it('makes text storable: NUL and lone surrogates become U+FFFD, pairs and other characters stay', () => {
    expect(clipText('a\u0000b', 10)).toBe('a\uFFFDb');
    expect(clipText('x\uDC00y\uD800', 10)).toBe('x\uFFFDy\uFFFD');
    expect(clipText('ok 😀 \u202E\t', 20)).toBe('ok 😀 \u202E\t');
  });
});
