using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Roster.Tests.Support;

public static class Http
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<JsonNode> ShouldBe(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"Expected {(int)status} but got {(int)response.StatusCode}: {body}");
        // NDJSON (the audit export): one JSON value per line, read as an array of them.
        if (response.Content.Headers.ContentType?.MediaType == "application/x-ndjson")
            return new JsonArray(body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonNode.Parse(line)).ToArray());
        return string.IsNullOrEmpty(body) ? JsonValue.Create("")! : JsonNode.Parse(body)!;
    }

    /// <summary>Asserts an RFC 9457 problem with the given status and machine-readable code.</summary>
    public static async Task<JsonNode> ShouldBeProblem(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.ShouldBe(status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)status, body["status"]!.GetValue<int>());
        Assert.Equal(code, body["code"]?.GetValue<string>());
        // The OpenAPI document's Problem schema makes these required: every problem carries them.
        Assert.False(string.IsNullOrEmpty(body["title"]?.GetValue<string>()), $"problem without a title: {body.ToJsonString()}");
        Assert.False(string.IsNullOrEmpty(body["traceId"]?.GetValue<string>()), $"problem without a traceId: {body.ToJsonString()}");
        return body;
    }

    public static Task<HttpResponseMessage> PostJson(this HttpClient client, string url, object body) =>
        client.PostAsJsonAsync(url, body, Json);

    public static Task<HttpResponseMessage> PutJson(this HttpClient client, string url, object? body = null) =>
        body is null ? client.PutAsync(url, null) : client.PutAsJsonAsync(url, body, Json);

    public static Task<HttpResponseMessage> PatchJson(this HttpClient client, string url, object body) =>
        client.PatchAsJsonAsync(url, body, Json);

    public static Task<HttpResponseMessage> SendRaw(this HttpClient client, HttpMethod method, string url, string body,
        string contentType = "application/json") =>
        client.SendAsync(new HttpRequestMessage(method, url) { Content = new StringContent(body, System.Text.Encoding.UTF8, contentType) });

    public static string Str(this JsonNode node, string property) => node[property]!.GetValue<string>();
}
