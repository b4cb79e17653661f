import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signatures in the Standard Webhooks format (https://www.standardwebhooks.com): HMAC-SHA256, keyed with the
 * subscription's secret, of `<webhook-id>.<webhook-timestamp>.<body>`, sent as `webhook-signature: v1,<base64>`.
 * The timestamp is inside the signed content, so a receiver that refuses old timestamps refuses replays.
 */
export const EventSignatureHeaders = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

const keyOf = (secret: string): Buffer => Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');

/** The `v1,<base64>` signature of one message. */
export function signEvent(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${messageId}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three headers of a signed delivery. */
export function signedEventHeaders(secret: string, messageId: string, body: string, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    [EventSignatureHeaders.id]: messageId,
    [EventSignatureHeaders.timestamp]: String(timestamp),
    [EventSignatureHeaders.signature]: signEvent(secret, messageId, timestamp, body),
  };
}

/**
 * For a receiver: true when one of the header's signatures is the body's (the raw body, as received) and the timestamp is
 * within `toleranceSeconds` of now. Drop duplicates by `webhook-id`: delivery is at least once.
 */
export function verifyEventSignature(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  now = new Date(),
  toleranceSeconds = 300,
): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(now.getTime() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signEvent(secret, headers.id, timestamp, body));
  return headers.signature.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
