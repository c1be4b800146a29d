/**
 * Reads a response body up to `cap` bytes. Past the cap the stream is destroyed, which makes
 * undici drop the connection rather than download an answer nobody will read.
 */
export async function readCapped(body: AsyncIterable<Uint8Array> & { destroy(): unknown }, cap: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (size + bytes.length > cap) {
      chunks.push(bytes.subarray(0, cap - size));
      size = cap;
      body.destroy();
      return { body: Buffer.concat(chunks, size), complete: false };
    }
    chunks.push(bytes);
    size += bytes.length;
  }
  return { body: Buffer.concat(chunks, size), complete: true };
}
