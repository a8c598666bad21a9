import pino from 'pino';

export const logger = pino({ name: 'ferry', level: process.env.FERRY_LOG_LEVEL ?? 'info' });
