using Npgsql;
using Roster.Infrastructure.Data;
using Xunit;

namespace Roster.Tests.Migrations;

/// <summary>The service's PostgreSQL data source: statements are prepared automatically unless the connection string says otherwise.</summary>
public sealed class PostgresDataSourceTests
{
    private static int MaxAutoPrepareOf(string connectionString)
    {
        using var dataSource = StorageRegistration.BuildDataSource(connectionString);
        return new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).MaxAutoPrepare;
    }

    [Fact]
    public void AConnectionStringThatSaysNothingGetsAutomaticPreparation() =>
        Assert.Equal(StorageRegistration.DefaultMaxAutoPrepare, MaxAutoPrepareOf("Host=localhost;Database=roster"));

    [Theory]
    [InlineData("Host=localhost;Database=roster;Max Auto Prepare=0", 0)]
    [InlineData("Host=localhost;Database=roster;MaxAutoPrepare=7", 7)]
    [InlineData("Host=localhost;Database=roster;max auto prepare=0", 0)]
    public void AConnectionStringThatNamesMaxAutoPrepareKeepsItsOwnValue(string connectionString, int expected) =>
        Assert.Equal(expected, MaxAutoPrepareOf(connectionString));
}
