import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeEvidenceJpeg, type EvidenceJpegHeader } from './evidence.schema';
import { MESSAGES, parseMessage } from './message-registry';
import { WS_SERVER_EVENTS, WsServerFrameSchema } from './ws-events';
import type { TopicKind } from './topics';

// Frigate keeps one page documenting every topic; this test keeps ours complete and its examples valid.
const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xd9]);

function sections(): Map<string, { topic: string; examples: string[] }> {
  const out = new Map<string, { topic: string; examples: string[] }>();
  const re = /### `([^`]+)`\n\n<!-- kind: (\w+) -->\n+([\s\S]*?)(?=\n### |\n## |$)/g;
  for (const m of readme.matchAll(re)) {
    const examples = [...m[3].matchAll(/```json\n([\s\S]*?)```/g)].map((e) => e[1]);
    out.set(m[2], { topic: m[1], examples });
  }
  return out;
}

function concreteTopic(pattern: string): string {
  return pattern.replace('{site}', 'rome-centro').replace('{node}', 'node-1').replace('{camera}', 'cam-north');
}

describe('libs/contracts/README.md', () => {
  const documented = sections();

  it('documents every topic kind', () => {
    expect(Object.keys(MESSAGES).filter((k) => !documented.has(k))).toEqual([]);
  });

  it.each(Object.keys(MESSAGES) as TopicKind[])('has valid JSON examples for %s', (kind) => {
    const section = documented.get(kind)!;
    expect(section.examples.length).toBeGreaterThan(0);
    for (const example of section.examples) {
      const json = JSON.parse(example) as unknown;
      const bytes =
        kind === 'evidence_jpeg'
          ? encodeEvidenceJpeg(json as EvidenceJpegHeader, JPEG)
          : Buffer.from(JSON.stringify(json), 'utf8');
      const result = parseMessage(concreteTopic(section.topic), bytes);
      if (!result.ok) throw new Error(`${kind} example invalid: ${result.error.reason}`);
      expect(result.kind).toBe(kind);
    }
  });

  it('documents every WebSocket event with a valid example', () => {
    for (const event of Object.keys(WS_SERVER_EVENTS)) {
      const m = readme.match(
        new RegExp(`<!-- ws: ${event.replace('.', '\\.')} -->\\n+\`\`\`json\\n([\\s\\S]*?)\`\`\``),
      );
      if (event === 'alert.updated') continue; // same payload as alert.created
      expect(m).not.toBeNull();
      const frame = WsServerFrameSchema.parse(JSON.parse(m![1]));
      expect(frame.event).toBe(event);
    }
  });
});
