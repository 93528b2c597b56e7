/** Business Central's OData error shape: `{"error":{"code","message"}}`, the message ending in the correlation id. */

export class BcError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface ErrorBody { error: { code: string; message: string } }

export function errorBody(code: string, message: string, correlationId: string): ErrorBody {
  return { error: { code, message: `${message}  CorrelationId:  ${correlationId}.` } };
}

export const querySyntax = (detail?: string) =>
  new BcError(400, 'BadRequest_NotFound', detail ? `Bad Request - Error in query syntax. ${detail}` : 'Bad Request - Error in query syntax.');

export const segmentNotFound = (segment: string) =>
  new BcError(404, 'BadRequest_ResourceNotFound', `Resource not found for the segment '${segment}'.`);

export const recordNotFound = (table: string, fields: string) =>
  new BcError(404, 'Internal_RecordNotFound', `The ${table} does not exist. Identification fields and values: ${fields}`);

export const dialog = (message: string) => new BcError(400, 'Application_DialogException', message);

export const methodNotAllowed = (method: string, what: string) =>
  new BcError(405, 'BadRequest_MethodNotAllowed', `'${method}' requests for '${what}' of EdmType 'Entity' are not allowed within Dynamics 365 Business Central OData web services.`);

export const stringTooLong = (value: string, max: number) =>
  new BcError(400, 'Application_StringExceededLength',
    `The length of the string is ${value.length}, but it must be less than or equal to ${max} characters. Value: ${value}`);
