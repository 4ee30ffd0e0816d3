using System.Text.RegularExpressions;

namespace Roster.Infrastructure.Memberships;

public static partial class RoleSlug
{
    /// <summary>owner, admin, member, or a custom WorkOS role slug (lowercase letters, digits, '-', '_', ':').</summary>
    public static bool IsValid(string? slug) => slug is not null && Pattern().IsMatch(slug);

    [GeneratedRegex("^[a-z0-9][a-z0-9_:-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
