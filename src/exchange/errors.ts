import { ConfigurationError, FerryError } from '../core/errors.js';

/**
 * Errors of the exchange. Their class names are Temporal failure types: the
 * exchange workflow lists EXCHANGE_NON_RETRYABLE_ERROR_TYPES so that a refusal
 * retrying cannot fix (bad token, schema mismatch, malformed packet) fails the
 * run at once.
 */

/** The central node refused the node's token (HTTP 401): the token in the node's environment is wrong or the node was removed. */
export class ExchangeAuthError extends FerryError {}

/** The packet's schema_version is not one the receiver knows (HTTP 409): nothing was applied. */
export class ExchangeSchemaMismatchError extends FerryError {}

export function schemaMismatch(got: string, known: readonly string[], where: string): ExchangeSchemaMismatchError {
  return new ExchangeSchemaMismatchError(
    `${where}: packet schema_version "${got}" is not known here (this node knows ${known.map((v) => `"${v}"`).join(', ')}); nothing was applied`,
    'upgrade the node whose exchange plan is older so both declare the same schemaVersion (or list the other one in acceptsSchemaVersions)',
  );
}

/** A packet that is not a valid envelope (HTTP 400): nothing was applied. */
export class ExchangeProtocolError extends FerryError {}

/** The exchange configuration names an unknown node, a missing token variable, a table without a uuid key... */
export class ExchangeConfigurationError extends ConfigurationError {}

export const EXCHANGE_NON_RETRYABLE_ERROR_TYPES = ['ExchangeAuthError', 'ExchangeSchemaMismatchError', 'ExchangeProtocolError', 'ExchangeConfigurationError'];
