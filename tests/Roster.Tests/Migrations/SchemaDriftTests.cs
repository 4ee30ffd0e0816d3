using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Roster.Infrastructure.Data;

namespace Roster.Tests.Migrations;

/// <summary>
/// The schema is hand-written SQL (src/Migrations) and the EF model only maps onto it, so nothing else notices when the
/// two drift apart until a query fails in production. After every migration has run, each provider's schema must hold
/// every table and column the model maps, with a compatible type and the same nullability; every NOT NULL column
/// without a default must be one the model writes; and every index and foreign key the model declares must exist.
/// </summary>
public abstract class SchemaDriftTests(StorageProvider provider) : MigrationTestBase(provider)
{
    private sealed record Column(string Table, string Name, string Type, bool Nullable, bool HasDefault);

    private IModel Model()
    {
        var builder = new DbContextOptionsBuilder<RosterDb>();
        StorageRegistration.ConfigureProvider(builder, Options, null);
        using var db = new RosterDb(builder.Options);
        return db.GetService<Microsoft.EntityFrameworkCore.Metadata.IDesignTimeModel>().Model;
    }

    private async Task<List<Column>> ColumnsAsync()
    {
        if (Sql.IsPostgres)
        {
            var rows = await Sql.QueryAsync(
                "SELECT table_name, column_name, data_type, is_nullable = 'YES', column_default IS NOT NULL " +
                "FROM information_schema.columns WHERE table_schema = 'public'");
            return rows.Select(r => new Column((string)r[0]!, (string)r[1]!, (string)r[2]!, (bool)r[3]!, (bool)r[4]!)).ToList();
        }
        var columns = new List<Column>();
        var tables = await Sql.QueryAsync("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
        foreach (var table in tables.Select(t => (string)t[0]!))
        {
            // pragma_table_info: cid, name, type, notnull, dflt_value, pk. A primary key column is NOT NULL in intent.
            var info = await Sql.QueryAsync("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(@p0)", table);
            columns.AddRange(info.Select(c => new Column(table, (string)c[0]!, ((string)c[1]!).ToLowerInvariant(),
                Convert.ToInt64(c[2]) == 0 && Convert.ToInt64(c[4]) == 0, c[3] is not null)));
        }
        return columns;
    }

    /// <summary>The storage types a CLR type may live in, per provider (SQLite's declared type affinities included).</summary>
    private string[] AcceptedTypes(Type clr)
    {
        clr = Nullable.GetUnderlyingType(clr) ?? clr;
        if (Sql.IsPostgres)
            return clr switch
            {
                _ when clr == typeof(Guid) => ["uuid"],
                _ when clr == typeof(string) => ["text", "character varying"],
                _ when clr == typeof(DateTime) || clr == typeof(DateTimeOffset) => ["timestamp with time zone"],
                _ when clr == typeof(int) => ["integer"],
                _ when clr == typeof(long) => ["bigint"],
                _ when clr == typeof(bool) => ["boolean"],
                _ when clr == typeof(byte[]) => ["bytea"],
                _ when clr == typeof(decimal) => ["numeric"],
                _ when clr == typeof(double) => ["double precision"],
                _ => [$"<no mapping for {clr.Name}>"],
            };
        return clr switch
        {
            _ when clr == typeof(Guid) || clr == typeof(string) || clr == typeof(DateTime) || clr == typeof(DateTimeOffset)
                || clr == typeof(decimal) => ["text"],
            _ when clr == typeof(int) || clr == typeof(long) || clr == typeof(bool) => ["integer", "bigint", "int"],
            _ when clr == typeof(byte[]) => ["blob"],
            _ when clr == typeof(double) => ["real", "double"],
            _ => [$"<no mapping for {clr.Name}>"],
        };
    }

    [Fact]
    public async Task EveryMappedColumnExistsWithACompatibleTypeAndTheSameNullability()
    {
        await NewRunner().MigrateAsync();
        var columns = (await ColumnsAsync()).ToDictionary(c => (c.Table, c.Name));
        var drift = new List<string>();

        foreach (var entity in Model().GetEntityTypes())
        {
            var table = entity.GetTableName()!;
            if (!columns.Keys.Any(k => k.Table == table)) { drift.Add($"table {table} ({entity.ClrType.Name}) is missing"); continue; }
            var store = StoreObjectIdentifier.Table(table, entity.GetSchema());
            foreach (var property in entity.GetProperties())
            {
                var name = property.GetColumnName(store)!;
                if (!columns.TryGetValue((table, name), out var column)) { drift.Add($"{table}.{name} is missing"); continue; }
                var accepted = AcceptedTypes(property.GetProviderClrType() ?? property.ClrType);
                if (!accepted.Contains(column.Type))
                    drift.Add($"{table}.{name} is {column.Type}; the model's {property.ClrType.Name} wants {string.Join(" or ", accepted)}");
                if (property.IsNullable != column.Nullable)
                    drift.Add($"{table}.{name} is {(column.Nullable ? "NULL" : "NOT NULL")} but the model says {(property.IsNullable ? "nullable" : "required")}");
            }
        }

        Assert.True(drift.Count == 0, $"schema drift on {Provider}:\n" + string.Join("\n", drift));
    }

    [Fact]
    public async Task EveryRequiredColumnWithoutADefaultIsOneTheModelWrites()
    {
        await NewRunner().MigrateAsync();
        var model = Model();
        var mapped = model.GetEntityTypes().ToDictionary(e => e.GetTableName()!, e => e.GetProperties()
            .Select(p => p.GetColumnName(StoreObjectIdentifier.Table(e.GetTableName()!, e.GetSchema()))!).ToHashSet());

        var unwritable = (await ColumnsAsync())
            .Where(c => mapped.ContainsKey(c.Table) && !c.Nullable && !c.HasDefault && !mapped[c.Table].Contains(c.Name))
            .Select(c => $"{c.Table}.{c.Name}").ToList();

        Assert.True(unwritable.Count == 0, "NOT NULL columns without a default that EF never writes (its inserts would fail): " + string.Join(", ", unwritable));
    }

    [Fact]
    public async Task EveryIndexAndForeignKeyTheModelDeclaresExists()
    {
        await NewRunner().MigrateAsync();
        var missing = new List<string>();
        foreach (var entity in Model().GetEntityTypes())
        {
            var table = entity.GetTableName()!;
            var store = StoreObjectIdentifier.Table(table, entity.GetSchema());
            foreach (var fk in entity.GetForeignKeys())
            {
                var columns = fk.Properties.Select(p => p.GetColumnName(store)!).ToList();
                var principal = fk.PrincipalEntityType.GetTableName()!;
                if (!await ForeignKeyExistsAsync(table, columns, principal))
                    missing.Add($"foreign key {table}({string.Join(", ", columns)}) → {principal}");
            }
            foreach (var index in entity.GetIndexes())
            {
                var columns = index.Properties.Select(p => p.GetColumnName(store)!).ToList();
                if (!await IndexCoversAsync(table, columns, index.IsUnique))
                    missing.Add($"{(index.IsUnique ? "unique " : "")}index {table}({string.Join(", ", columns)})");
            }
        }
        Assert.True(missing.Count == 0, $"declared by the model, absent on {Provider}:\n" + string.Join("\n", missing));
    }

    private async Task<bool> ForeignKeyExistsAsync(string table, List<string> columns, string principal)
    {
        if (Sql.IsPostgres)
        {
            var rows = await Sql.QueryAsync(
                "SELECT array_to_string(array_agg(a.attname ORDER BY k.n), ','), c.confrelid::regclass::text " +
                "FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n) " +
                "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum " +
                "WHERE c.contype = 'f' AND c.conrelid = @p0::regclass GROUP BY c.oid, c.confrelid", table);
            return rows.Any(r => (string)r[0]! == string.Join(",", columns) && (string)r[1]! == principal);
        }
        var fks = await Sql.QueryAsync("SELECT id, \"table\", \"from\" FROM pragma_foreign_key_list(@p0) ORDER BY id, seq", table);
        return fks.GroupBy(r => Convert.ToInt64(r[0]))
            .Any(g => (string)g.First()[1]! == principal && g.Select(r => (string)r[2]!).SequenceEqual(columns));
    }

    /// <summary>
    /// An index is written on every insert and on every update of its columns, ingest's included, so one that only
    /// repeats the leading columns of another full index (neither partial) costs writes and serves no query the longer
    /// one does not. Unique indexes are constraints and stay.
    /// </summary>
    [Fact]
    public async Task NoIndexRepeatsTheLeadingColumnsOfAnother()
    {
        await NewRunner().MigrateAsync();
        var indexes = await FullIndexesAsync();
        var redundant = (from shorter in indexes
                         where !shorter.Unique
                         from longer in indexes
                         where longer.Table == shorter.Table && longer.Name != shorter.Name && longer.Columns.Count > shorter.Columns.Count
                               && longer.Columns.Take(shorter.Columns.Count).SequenceEqual(shorter.Columns)
                         select $"{shorter.Name} ({string.Join(", ", shorter.Columns)}) is the prefix of {longer.Name} ({string.Join(", ", longer.Columns)})").ToList();
        Assert.NotEmpty(indexes);
        Assert.True(redundant.Count == 0, string.Join("\n", redundant));
    }

    private sealed record IndexShape(string Table, string Name, bool Unique, List<string> Columns);

    /// <summary>Every index that is not partial, with its columns in order (expression indexes have no column names and are left out).</summary>
    private async Task<List<IndexShape>> FullIndexesAsync()
    {
        if (Sql.IsPostgres)
        {
            var rows = await Sql.QueryAsync(
                "SELECT t.relname, c.relname, i.indisunique, array_to_string(array_agg(a.attname ORDER BY k.n), ',') " +
                "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid " +
                "JOIN pg_namespace ns ON ns.oid = t.relnamespace AND ns.nspname = 'public' " +
                "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) " +
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum " +
                "WHERE i.indpred IS NULL AND i.indexprs IS NULL GROUP BY t.relname, c.relname, i.indisunique");
            return rows.Select(r => new IndexShape((string)r[0]!, (string)r[1]!, (bool)r[2]!, ((string)r[3]!).Split(',').ToList())).ToList();
        }
        var shapes = new List<IndexShape>();
        foreach (var table in (await Sql.QueryAsync("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")).Select(t => (string)t[0]!))
        {
            foreach (var index in await Sql.QueryAsync("SELECT name, \"unique\", partial FROM pragma_index_list(@p0)", table))
            {
                if (Convert.ToInt64(index[2]) != 0) continue;
                var cols = (await Sql.QueryAsync("SELECT name FROM pragma_index_info(@p0) ORDER BY seqno", (string)index[0]!)).Select(r => r[0] as string).ToList();
                if (cols.Any(c => c is null)) continue;
                shapes.Add(new IndexShape(table, (string)index[0]!, Convert.ToInt64(index[1]) != 0, cols!));
            }
        }
        return shapes;
    }

    private async Task<bool> IndexCoversAsync(string table, List<string> columns, bool unique)
    {
        if (Sql.IsPostgres)
        {
            var rows = await Sql.QueryAsync(
                "SELECT i.indisunique, array_to_string(array_agg(a.attname ORDER BY k.n), ',') " +
                "FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) " +
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum " +
                "WHERE i.indrelid = @p0::regclass GROUP BY i.indexrelid, i.indisunique", table);
            return rows.Any(r => (!unique || (bool)r[0]!) && ((string)r[1]!).StartsWith(string.Join(",", columns), StringComparison.Ordinal));
        }
        var indexes = await Sql.QueryAsync("SELECT name, \"unique\" FROM pragma_index_list(@p0)", table);
        foreach (var index in indexes)
        {
            if (unique && Convert.ToInt64(index[1]) == 0) continue;
            var cols = (await Sql.QueryAsync("SELECT name FROM pragma_index_info(@p0) ORDER BY seqno", (string)index[0]!)).Select(r => (string?)r[0]).ToList();
            if (cols.Take(columns.Count).SequenceEqual(columns)) return true;
        }
        return false;
    }
}

public sealed class SchemaDriftTestsOnSqlite() : SchemaDriftTests(StorageProvider.Sqlite);

public sealed class SchemaDriftTestsOnPostgres() : SchemaDriftTests(StorageProvider.Postgres);
