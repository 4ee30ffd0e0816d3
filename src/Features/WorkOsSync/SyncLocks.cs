using System.Collections.Concurrent;
using Npgsql;
using Roster.Infrastructure.Data;

namespace Roster.Features.WorkOsSync;

/// <summary>
/// One sync of a given organization at a time: across every app instance on PostgreSQL (a session advisory lock
/// held on its own connection for the whole sync), and within this process on SQLite (single-instance by nature).
/// </summary>
public sealed class SyncLocks(StorageOptions storage, IServiceProvider services)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _local = new(StringComparer.Ordinal);

    /// <returns>A lease to dispose when done, or null when someone else is syncing this key right now.</returns>
    public async Task<IAsyncDisposable?> TryAcquireAsync(string key, CancellationToken ct)
    {
        var gate = _local.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(0, ct)) return null;
        if (storage.Provider != StorageProvider.Postgres) return new Lease(gate, null, 0);

        var connection = await services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync(ct);
        try
        {
            var lockKey = LockKey(key);
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@k)", connection);
            command.Parameters.AddWithValue("k", lockKey);
            if (await command.ExecuteScalarAsync(ct) is true) return new Lease(gate, connection, lockKey);
        }
        catch
        {
            await connection.DisposeAsync();
            gate.Release();
            throw;
        }
        await connection.DisposeAsync();
        gate.Release();
        return null;
    }

    /// <summary>A stable 64-bit key per organization (string.GetHashCode differs between processes).</summary>
    private static long LockKey(string key)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("roster-sync:" + key));
        return BitConverter.ToInt64(hash, 0);
    }

    private sealed class Lease(SemaphoreSlim gate, NpgsqlConnection? connection, long lockKey) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (connection is not null)
            {
                try
                {
                    await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@k)", connection);
                    command.Parameters.AddWithValue("k", lockKey);
                    await command.ExecuteScalarAsync();
                }
                finally
                {
                    // Closing the session releases the lock even if the unlock above failed.
                    await connection.DisposeAsync();
                }
            }
            gate.Release();
        }
    }
}
