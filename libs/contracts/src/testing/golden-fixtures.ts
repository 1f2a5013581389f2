import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeEvidenceJpeg, type EvidenceJpegHeader } from '../evidence.schema';
import type { ContractErrorCode } from '../message-registry';

/** Golden fixtures shipped with the contracts: every schema has valid and invalid examples, tested both ways. */
export const FIXTURES_DIR = join(__dirname, '..', '..', 'fixtures');

interface FixtureFile {
  topic: string;
  payload?: unknown;
  rawPayload?: string;
  frame?: { header: EvidenceJpegHeader; jpegBase64: string };
  expectedCode?: ContractErrorCode;
  expectedPath?: string;
}

export interface GoldenFixture {
  name: string;
  topic: string;
  /** Exactly the bytes an MQTT client would publish. */
  bytes: Buffer;
  /** The JSON payload, when the message is JSON. */
  json: unknown;
  expectedCode?: ContractErrorCode;
  expectedPath?: string;
}

function toBytes(f: FixtureFile): Buffer {
  if (f.frame) return encodeEvidenceJpeg(f.frame.header, Buffer.from(f.frame.jpegBase64, 'base64'));
  if (f.rawPayload !== undefined) return Buffer.from(f.rawPayload, 'utf8');
  return Buffer.from(JSON.stringify(f.payload), 'utf8');
}

export function loadFixtures(kind: 'valid' | 'invalid'): GoldenFixture[] {
  const dir = join(FIXTURES_DIR, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const f = JSON.parse(readFileSync(join(dir, file), 'utf8')) as FixtureFile;
      return {
        name: file.replace(/\.json$/, ''),
        topic: f.topic,
        bytes: toBytes(f),
        json: f.payload ?? f.frame?.header ?? null,
        expectedCode: f.expectedCode,
        expectedPath: f.expectedPath,
      };
    });
}
