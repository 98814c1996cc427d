import { errorBody, errorType, ApiFormat } from "../api-error";

describe("errorBody", () => {
  it("uses OpenAI's error shape with our code", () => {
    expect(errorBody(ApiFormat.OpenAI, 401, "auth.invalid_key", "bad \"key\""))
      .toBe("{\"error\":{\"message\":\"bad \\\"key\\\"\",\"type\":\"authentication_error\",\"param\":null,\"code\":\"auth.invalid_key\"}}");
  });
  it("uses Anthropic's error shape with our code", () => {
    expect(errorBody(ApiFormat.Anthropic, 503, "auth.sidecar_unavailable", "down"))
      .toBe("{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"down\",\"code\":\"auth.sidecar_unavailable\"}}");
  });
  it("maps statuses to each API's error types", () => {
    expect(errorType(ApiFormat.OpenAI, 429)).toBe("rate_limit_exceeded");
    expect(errorType(ApiFormat.Anthropic, 429)).toBe("rate_limit_error");
    expect(errorType(ApiFormat.Anthropic, 400)).toBe("invalid_request_error");
    expect(errorType(ApiFormat.OpenAI, 500)).toBe("api_error");
  });
});
