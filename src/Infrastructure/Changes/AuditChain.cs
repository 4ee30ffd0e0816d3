using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Roster.Infrastructure.Data;

namespace Roster.Infrastructure.Changes;

/// <summary>
/// The audit chain: each audit row of an organization carries <c>hash = hex(SHA-256(previousHash + "\n" + canonical))</c>,
/// where <c>canonical</c> is the JSON array of the row's fields in a fixed order (<see cref="Canonical"/>) and
/// <c>previousHash</c> is the hash of the organization's audit row before it ("" for the first). Editing, removing or
/// reordering any row breaks the link at that row. The export writes one line per row (<see cref="ExportLine"/>) and
/// <see cref="Verify"/> checks a file of them offline.
/// </summary>
public static class AuditChain
{
    public const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    private static string? Id(Guid? id) => id?.ToString("D");

    public static string Time(DateTime at) => at.ToUniversalTime().ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>The fields, in the order they are hashed.</summary>
    public static string Canonical(AuditEvent a) => JsonSerializer.Serialize(new object?[]
    {
        Id(a.Id), Id(a.OrganizationId), a.Sequence, Time(a.At), a.Action, Id(a.MembershipId), Id(a.ActorUserId),
        Id(a.SubjectUserId), a.OldRole, a.NewRole, a.OldStatus, a.NewStatus, a.Source, a.Via,
    });

    public static string Hash(AuditEvent a, string previousHash) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(previousHash + "\n" + Canonical(a))));

    /// <summary>One NDJSON line of the export: the row's fields, its previous hash and its hash.</summary>
    public static string ExportLine(AuditEvent a) => new JsonObject
    {
        ["id"] = Id(a.Id),
        ["organizationId"] = Id(a.OrganizationId),
        ["sequence"] = a.Sequence,
        ["at"] = Time(a.At),
        ["action"] = a.Action,
        ["membershipId"] = Id(a.MembershipId),
        ["actorUserId"] = Id(a.ActorUserId),
        ["subjectUserId"] = Id(a.SubjectUserId),
        ["oldRole"] = a.OldRole,
        ["newRole"] = a.NewRole,
        ["oldStatus"] = a.OldStatus,
        ["newStatus"] = a.NewStatus,
        ["source"] = a.Source,
        ["via"] = a.Via,
        ["previousHash"] = a.PreviousHash,
        ["hash"] = a.Hash,
    }.ToJsonString();

    /// <summary>The outcome of <see cref="Verify"/>: the rows checked, and the first broken link (1-based line) if any.</summary>
    public sealed record Verdict(int Rows, int? BrokenLine, string? Problem, string? Hash)
    {
        public bool Intact => BrokenLine is null;
    }

    /// <summary>Checks an export line by line: each line's previousHash is the line before's hash, and its hash is recomputed.</summary>
    public static Verdict Verify(IEnumerable<string> lines)
    {
        var previous = (string?)null;
        var number = 0;
        var rows = 0;
        foreach (var raw in lines)
        {
            number++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            AuditEvent row;
            string claimedPrevious, claimedHash;
            try
            {
                var o = JsonNode.Parse(raw)?.AsObject() ?? throw new FormatException("not a JSON object");
                row = new AuditEvent
                {
                    Id = Guid.Parse(Str(o, "id")!),
                    OrganizationId = Guid.Parse(Str(o, "organizationId")!),
                    Sequence = o["sequence"]?.GetValue<long>(),
                    At = DateTime.ParseExact(Str(o, "at")!, TimeFormat, CultureInfo.InvariantCulture,
                        DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                    Action = Str(o, "action")!,
                    MembershipId = Str(o, "membershipId") is { } m ? Guid.Parse(m) : null,
                    ActorUserId = Str(o, "actorUserId") is { } actor ? Guid.Parse(actor) : null,
                    SubjectUserId = Str(o, "subjectUserId") is { } s ? Guid.Parse(s) : null,
                    OldRole = Str(o, "oldRole"),
                    NewRole = Str(o, "newRole"),
                    OldStatus = Str(o, "oldStatus"),
                    NewStatus = Str(o, "newStatus"),
                    Source = Str(o, "source"),
                    Via = Str(o, "via")!,
                };
                claimedPrevious = Str(o, "previousHash") ?? throw new FormatException("no previousHash");
                claimedHash = Str(o, "hash") ?? throw new FormatException("no hash");
                if (row.Action is null || row.Via is null) throw new FormatException("no action or via");
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or ArgumentNullException)
            {
                return new Verdict(rows, number, $"line {number} is not an audit row of the export ({ex.Message})", null);
            }

            if (previous is not null && claimedPrevious != previous)
                return new Verdict(rows, number, $"line {number} (audit row {row.Id}, sequence {row.Sequence}): its previousHash does not match the hash of the line before; a row was removed, inserted or reordered here", claimedHash);
            if (previous is null && number == 1 && claimedPrevious.Length != 0 && claimedPrevious.Length != 64)
                return new Verdict(rows, number, $"line {number} (audit row {row.Id}): previousHash is not a SHA-256 hash", claimedHash);
            var computed = Hash(row, claimedPrevious);
            if (computed != claimedHash)
                return new Verdict(rows, number, $"line {number} (audit row {row.Id}, sequence {row.Sequence}): the row does not match its hash; it was changed after it was written", claimedHash);
            previous = claimedHash;
            rows++;
        }
        return new Verdict(rows, null, null, previous);
    }

    private static string? Str(JsonObject o, string name) => o[name] is JsonValue v ? v.GetValue<string>() : null;
}
