/**
 * Tiny binary payloads for the content scenarios. The suite only checks that `data`/`blob` is
 * a non-empty string and that `mimeType` is set (audio: exactly "audio/wav"), but we send real,
 * decodable files so a human looking at the output with an MCP inspector sees something valid.
 */

/** A 1x1 red PNG. */
export const RED_PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

/** 50 ms of silence: 8 kHz, 8-bit mono PCM in a RIFF/WAVE container (44-byte header). */
export function silentWav(sampleRate = 8000, millis = 50): Buffer {
  const samples = Math.round((sampleRate * millis) / 1000);
  const wav = Buffer.alloc(44 + samples, 0x80); // 0x80 is silence for unsigned 8-bit PCM
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + samples, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(sampleRate, 24);
  wav.writeUInt32LE(sampleRate, 28); // byte rate = rate * channels * bytes per sample
  wav.writeUInt16LE(1, 32); // block align
  wav.writeUInt16LE(8, 34); // bits per sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(samples, 40);
  return wav;
}

export const PNG_BASE64 = RED_PIXEL_PNG.toString('base64');
export const WAV_BASE64 = silentWav().toString('base64');
