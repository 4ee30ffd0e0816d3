using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Roster.Infrastructure.Data;

/// <summary>
/// A compiled query, compiled once per EF model. EF binds a compiled query to the model it first ran against, and one
/// process can hold more than one model (the SQLite and PostgreSQL models in the tests and the benchmarks).
/// </summary>
public sealed class PerModelQuery<TQuery>(Func<TQuery> compile) where TQuery : class
{
    private readonly ConditionalWeakTable<IModel, TQuery> _byModel = new();

    public TQuery For(DbContext db) => _byModel.GetValue(db.Model, _ => compile());
}
