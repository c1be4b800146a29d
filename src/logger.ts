import pino, { type Logger } from 'pino';

/** JSON logs by default; pretty when asked (the CLI asks on a TTY). Secrets are redacted by path. */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  const base = {
    level: options.level ?? process.env.GANGWAY_LOG_LEVEL ?? 'info',
    redact: {
      paths: ['*.authorization', '*.cookie', '*.token', '*.secret', '*.password', '*["x-api-key"]', '*["x-management-token"]'],
      censor: '[redacted]',
    },
  };
  if (!options.pretty) return pino(base);
  return pino({ ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } });
}
