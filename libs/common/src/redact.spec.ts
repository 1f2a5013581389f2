import { REDACTED, redactSecrets, redactUrl, urlCredentials } from './redact';

describe('redactUrl', () => {
  it('removes the userinfo of a URL and keeps host, port and path', () => {
    expect(redactUrl('rtsp://admin:hunter2@10.0.0.5:554/Streaming/Channels/102')).toBe(
      `rtsp://${REDACTED}@10.0.0.5:554/Streaming/Channels/102`,
    );
    expect(redactUrl('rtsp://10.0.0.5/s')).toBe('rtsp://10.0.0.5/s');
  });

  it('covers every URL in free text, including ffmpeg lines and quoted URLs', () => {
    const line = "Input #0, rtsp, from 'rtsp://bob:s3cr%40t@127.0.0.1:8554/cam': and http://x:y@h/snap.jpg";
    expect(redactUrl(line)).toBe(
      `Input #0, rtsp, from 'rtsp://${REDACTED}@127.0.0.1:8554/cam': and http://${REDACTED}@h/snap.jpg`,
    );
  });

  it('covers an unencoded "@" inside the password', () => {
    expect(redactUrl('rtsp://bob:p@ss@cam/s')).toBe(`rtsp://${REDACTED}@cam/s`);
  });

  it('does not touch an "@" in the path', () => {
    expect(redactUrl('rtsp://cam/s@1')).toBe('rtsp://cam/s@1');
  });
});

describe('redactSecrets', () => {
  it('removes raw and percent-encoded secrets anywhere in the text', () => {
    const text = 'auth for bob with s3cr@t failed; retry rtsp://cam/s?pw=s3cr%40t';
    const out = redactSecrets(text, ['bob', 's3cr@t']);
    expect(out).not.toMatch(/bob|s3cr/);
    expect(out).toBe(`auth for ${REDACTED} with ${REDACTED} failed; retry rtsp://cam/s?pw=${REDACTED}`);
  });

  it('ignores empty and missing secrets', () => {
    expect(redactSecrets('nothing here', ['', undefined, null])).toBe('nothing here');
  });
});

describe('urlCredentials', () => {
  it('decodes userinfo and tolerates non-URLs', () => {
    expect(urlCredentials('rtsp://u%20x:p%40ss@cam/s')).toEqual({ username: 'u x', password: 'p@ss' });
    expect(urlCredentials('/a/file.avi')).toEqual({ username: '', password: '' });
  });
});
