using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Roster.Infrastructure.Configuration;

/// <summary>A settings class that can say what is wrong with its values, naming each key as configuration spells it.</summary>
public interface IValidatedSettings
{
    /// <summary>One sentence per wrong value, each starting with its key (e.g. <c>Seats:DefaultPlan</c>); none when all is well.</summary>
    IEnumerable<string> Problems();
}

/// <summary>
/// Every settings class goes through here: bound from its configuration section with the options pattern, validated
/// when the host starts (so a wrong value stops the service with a message naming the key instead of failing the
/// first request that reads it), and also registered as itself for the handlers that take it as a parameter.
/// </summary>
public static class Settings
{
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services, string section)
        where T : class, IValidatedSettings
    {
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<T>>().Value);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>, SettingsValidator<T>>());
        return services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>
    /// Runs every start-time validation now. The host does this itself when it starts; commands (migrate, dev-token, …)
    /// never start the host, so they call this first and report a wrong value the same way.
    /// </summary>
    public static void ValidateNow(IServiceProvider services) => services.GetService<IStartupValidator>()?.Validate();

    /// <summary>An absolute http or https URL (the one rule every URL setting is checked by).</summary>
    public static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    /// <summary>The sentence an operator sees for a configuration error, or null when the exception is not one.</summary>
    public static string? DescribeError(Exception ex) => ex switch
    {
        OptionsValidationException invalid => "Invalid configuration: " + string.Join(" ", invalid.Failures),
        AggregateException { InnerExceptions: var inner } when inner.All(e => DescribeError(e) is not null) =>
            string.Join(Environment.NewLine, inner.Select(e => DescribeError(e)!)),
        // The binder's own message names the key and the value it could not convert.
        InvalidOperationException bind when bind.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) =>
            "Invalid configuration: " + bind.Message,
        _ => null,
    };

    private sealed class SettingsValidator<T> : IValidateOptions<T> where T : class, IValidatedSettings
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var problems = options.Problems().ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
