import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

/**
 * POST /bench/echo (only where `serving.benchEcho` is on: the `local` environment): answers 200 with
 * the request body, under the headers predict answers with. The serving bench's reference: the
 * same construct, runtime, bundling and API Gateway path as predict, with no work in the function,
 * so the ratio of the two routes' latencies is the cost of predict's own work. It imports nothing
 * (not even the header names from core), so its bundle is the floor predict's bundle is measured against.
 */
export function createHandler(log: (line: string) => void = console.log) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId ?? '';
    // One log line a request, as predict writes ("prediction served"): the emulator waits up to 50 ms
    // after each invocation for a first log line, so a silent function would answer slower than predict.
    log(JSON.stringify({ level: 'INFO', message: 'echo served', requestId, bytes: event.body?.length ?? 0 }));
    return {
      statusCode: 200,
      // The shape of predict's answer headers (content type, request id, SDK, model, version, arm).
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, 'x-mlops-sdk': 'none', 'x-mlops-model': 'echo', 'x-mlops-version': '0', 'x-mlops-arm': 'echo' },
      body: event.body ?? '',
    };
  };
}

export const handler = createHandler();
