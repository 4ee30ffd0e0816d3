using System.Reflection;
using System.Reflection.Emit;

namespace Roster.Tests.Architecture;

/// <summary>
/// Which part of Roster uses which, read from the compiled assembly: every type's base type and interfaces, fields,
/// properties, events, method and constructor signatures, generic arguments and constraints, attributes, and the
/// types, methods and fields its IL names (so a <c>new X()</c> or a call to <c>X.Y()</c> inside a body counts, not
/// only what a signature shows). A type belongs to the namespace of its outermost declaring type, so lambdas, async
/// state machines and local functions count for the type that wrote them.
/// </summary>
public static class DependencyGraph
{
    /// <summary>One use of a type of another component: who (a type and member) used what.</summary>
    public sealed record Edge(string From, string To, string Where, string Target)
    {
        public override string ToString() => $"{From} → {To}: {Where} uses {Target}";
    }

    private static readonly Dictionary<short, OpCode> OneByte = new();
    private static readonly Dictionary<short, OpCode> TwoByte = new();

    static DependencyGraph()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var code = (OpCode)field.GetValue(null)!;
            if (code.Size == 1) OneByte[code.Value] = code;
            else TwoByte[(short)(code.Value & 0xff)] = code;
        }
    }

    /// <summary>
    /// The component of a namespace: <c>Roster.Features.X</c> (one per feature folder), <c>Roster.Infrastructure</c>,
    /// or the namespace's second part (<c>Roster.Cli</c>, <c>Roster.Migrations</c>, …); null outside Roster.
    /// </summary>
    public static string? ComponentOf(string? ns)
    {
        if (ns is null || !(ns == "Roster" || ns.StartsWith("Roster.", StringComparison.Ordinal))) return null;
        var parts = ns.Split('.');
        if (parts.Length >= 3 && parts[1] == "Features") return $"Roster.Features.{parts[2]}";
        return parts.Length >= 2 ? $"Roster.{parts[1]}" : "Roster";
    }

    public static string? ComponentOf(Type type) => ComponentOf(Outermost(type).Namespace);

    private static Type Outermost(Type type)
    {
        while (type.IsGenericParameter && type.DeclaringType is not null) type = type.DeclaringType;
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type;
    }

    /// <summary>Every edge between two different components of <paramref name="assembly"/>.</summary>
    public static IReadOnlyList<Edge> Edges(Assembly assembly)
    {
        var edges = new List<Edge>();
        foreach (var type in assembly.GetTypes())
        {
            var from = ComponentOf(type);
            if (from is null) continue;
            var owner = Outermost(type).FullName ?? type.Name;
            void Use(Type? used, string where)
            {
                foreach (var t in Flatten(used))
                {
                    if (t.Assembly != assembly) continue;
                    var to = ComponentOf(t);
                    if (to is not null && to != from) edges.Add(new Edge(from, to, $"{owner} ({where})", Outermost(t).FullName ?? t.Name));
                }
            }

            Use(type.BaseType, "base type");
            foreach (var i in type.GetInterfaces()) Use(i, "interface");
            if (type.IsGenericTypeDefinition)
                foreach (var p in type.GetGenericArguments())
                    foreach (var c in p.GetGenericParameterConstraints()) Use(c, "constraint");
            foreach (var a in SafeAttributes(type)) UseAttribute(a, "attribute", Use);

            const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var f in type.GetFields(all))
            {
                Use(f.FieldType, f.Name);
                foreach (var a in SafeAttributes(f)) UseAttribute(a, f.Name, Use);
            }
            foreach (var p in type.GetProperties(all))
            {
                Use(p.PropertyType, p.Name);
                foreach (var a in SafeAttributes(p)) UseAttribute(a, p.Name, Use);
            }
            foreach (var e in type.GetEvents(all)) Use(e.EventHandlerType, e.Name);
            foreach (var m in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                if (m is MethodInfo mi)
                {
                    Use(mi.ReturnType, m.Name);
                    if (mi.IsGenericMethodDefinition)
                        foreach (var g in mi.GetGenericArguments())
                            foreach (var c in g.GetGenericParameterConstraints()) Use(c, m.Name);
                }
                foreach (var p in m.GetParameters())
                {
                    Use(p.ParameterType, m.Name);
                    foreach (var a in SafeAttributes(p)) UseAttribute(a, m.Name, Use);
                }
                foreach (var a in SafeAttributes(m)) UseAttribute(a, m.Name, Use);
                var body = m.GetMethodBody();
                if (body is null) continue;
                foreach (var local in body.LocalVariables) Use(local.LocalType, m.Name);
                foreach (var clause in body.ExceptionHandlingClauses)
                    if (clause.Flags == ExceptionHandlingClauseOptions.Clause) Use(clause.CatchType, m.Name);
                foreach (var used in IlMembers(m, body).SelectMany(TypesOf)) Use(used, m.Name);
            }
        }
        return edges;
    }

    private static IEnumerable<CustomAttributeData> SafeAttributes(MemberInfo member) => member.GetCustomAttributesData();

    private static IEnumerable<CustomAttributeData> SafeAttributes(ParameterInfo parameter) => parameter.GetCustomAttributesData();

    private static void UseAttribute(CustomAttributeData attribute, string where, Action<Type?, string> use)
    {
        use(attribute.AttributeType, where);
        foreach (var arg in attribute.ConstructorArguments.Concat(attribute.NamedArguments.Select(n => n.TypedValue)))
        {
            use(arg.ArgumentType, where);
            if (arg.Value is Type typeOf) use(typeOf, where);
            if (arg.Value is IEnumerable<CustomAttributeTypedArgument> items)
                foreach (var item in items)
                    if (item.Value is Type itemType) use(itemType, where);
        }
    }

    /// <summary>The type itself, its element type and every generic argument, recursively.</summary>
    private static IEnumerable<Type> Flatten(Type? type)
    {
        if (type is null) yield break;
        var seen = new HashSet<Type>();
        var stack = new Stack<Type>();
        stack.Push(type);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (!seen.Add(t)) continue;
            if (t.IsGenericParameter) continue;
            if (t.HasElementType) { stack.Push(t.GetElementType()!); continue; }
            if (t.IsGenericType)
            {
                foreach (var a in t.GetGenericArguments()) stack.Push(a);
                if (!t.IsGenericTypeDefinition) { stack.Push(t.GetGenericTypeDefinition()); continue; }
            }
            yield return t;
        }
    }

    /// <summary>The types a member named in IL stands for: a type itself; a method's or field's declaring type (and generic arguments, field type).</summary>
    private static IEnumerable<Type> TypesOf(MemberInfo member)
    {
        switch (member)
        {
            case Type t:
                yield return t;
                break;
            case MethodBase mb:
                if (mb.DeclaringType is { } declaring) yield return declaring;
                if (mb is MethodInfo { IsGenericMethod: true } generic)
                    foreach (var a in generic.GetGenericArguments()) yield return a;
                break;
            case FieldInfo f:
                if (f.DeclaringType is { } fieldOwner) yield return fieldOwner;
                yield return f.FieldType;
                break;
        }
    }

    /// <summary>
    /// Every method of <paramref name="assembly"/>'s types in namespaces starting with <paramref name="namespacePrefix"/>
    /// that calls <paramref name="target"/> (by IL), as "Type.Method".
    /// </summary>
    public static IReadOnlyList<string> CallersOf(Assembly assembly, string namespacePrefix, MethodBase target)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var callers = new List<string>();
        foreach (var type in assembly.GetTypes())
        {
            if (Outermost(type).Namespace?.StartsWith(namespacePrefix, StringComparison.Ordinal) != true) continue;
            foreach (var m in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
                if (m.GetMethodBody() is { } body && IlMembers(m, body).OfType<MethodBase>().Any(called => SameMethod(called, target)))
                    callers.Add($"{type.FullName}.{m.Name}");
        }
        return callers;
    }

    private static bool SameMethod(MethodBase a, MethodBase b) =>
        a.Module == b.Module && a.MetadataToken == b.MetadataToken;

    /// <summary>The types, methods and fields named by the tokens of a method body.</summary>
    private static IEnumerable<MemberInfo> IlMembers(MethodBase method, MethodBody body)
    {
        var il = body.GetILAsByteArray();
        if (il is null) yield break;
        var module = method.Module;
        var typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArgs = method is MethodInfo { IsGenericMethod: true } gm ? gm.GetGenericArguments() : null;
        var i = 0;
        while (i < il.Length)
        {
            OpCode code;
            if (il[i] == 0xfe)
            {
                code = TwoByte[il[i + 1]];
                i += 2;
            }
            else
            {
                code = OneByte[il[i]];
                i += 1;
            }
            switch (code.OperandType)
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    i += 8;
                    break;
                case OperandType.InlineSwitch:
                    var count = BitConverter.ToInt32(il, i);
                    i += 4 + 4 * count;
                    break;
                case OperandType.InlineType or OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineTok:
                    var token = BitConverter.ToInt32(il, i);
                    i += 4;
                    MemberInfo? member;
                    try
                    {
                        member = module.ResolveMember(token, typeArgs, methodArgs);
                    }
                    catch (ArgumentException)
                    {
                        member = null;
                    }
                    if (member is not null) yield return member;
                    break;
                default:
                    // InlineI, InlineBrTarget, InlineString, InlineSig, ShortInlineR: a four-byte operand.
                    i += 4;
                    break;
            }
        }
    }

    /// <summary>The cycles among the given components: each strongly connected group of two or more, sorted.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Cycles(IEnumerable<(string From, string To)> edges)
    {
        var graph = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (from, to) in edges)
        {
            (graph.TryGetValue(from, out var next) ? next : graph[from] = new(StringComparer.Ordinal)).Add(to);
            if (!graph.ContainsKey(to)) graph[to] = new(StringComparer.Ordinal);
        }

        // Tarjan's strongly connected components (the graph is a few dozen nodes: recursion is fine).
        var index = 0;
        var indices = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var cycles = new List<IReadOnlyList<string>>();
        void Visit(string v)
        {
            indices[v] = low[v] = index++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in graph[v])
            {
                if (!indices.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], indices[w]);
            }
            if (low[v] != indices[v]) return;
            var component = new List<string>();
            string x;
            do
            {
                x = stack.Pop();
                onStack.Remove(x);
                component.Add(x);
            } while (x != v);
            if (component.Count > 1) cycles.Add(component.Order(StringComparer.Ordinal).ToList());
        }
        foreach (var v in graph.Keys.Order(StringComparer.Ordinal).ToList())
            if (!indices.ContainsKey(v)) Visit(v);
        return cycles;
    }
}
