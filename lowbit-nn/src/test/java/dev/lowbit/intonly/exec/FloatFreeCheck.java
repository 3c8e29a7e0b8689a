package dev.lowbit.intonly.exec;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeElement;
import java.lang.classfile.FieldModel;
import java.lang.classfile.Instruction;
import java.lang.classfile.MethodModel;
import java.lang.classfile.TypeKind;
import java.lang.classfile.instruction.ArrayLoadInstruction;
import java.lang.classfile.instruction.ArrayStoreInstruction;
import java.lang.classfile.instruction.ConstantInstruction;
import java.lang.classfile.instruction.ConvertInstruction;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.InvokeDynamicInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.LoadInstruction;
import java.lang.classfile.instruction.NewMultiArrayInstruction;
import java.lang.classfile.instruction.NewObjectInstruction;
import java.lang.classfile.instruction.NewPrimitiveArrayInstruction;
import java.lang.classfile.instruction.NewReferenceArrayInstruction;
import java.lang.classfile.instruction.OperatorInstruction;
import java.lang.classfile.instruction.ReturnInstruction;
import java.lang.classfile.instruction.StoreInstruction;
import java.lang.classfile.instruction.TypeCheckInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDesc;
import java.lang.constant.DirectMethodHandleDesc;
import java.lang.constant.MethodTypeDesc;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a class file (the JDK's java.lang.classfile) and lists everything in it that is not
 * integer-only: a floating-point instruction (loads, stores, arithmetic, conversions, constants,
 * returns, array accesses and allocations of float or double), a field or method whose
 * descriptor names float or double, and a call or field access outside the allowlist: lowbit
 * classes of the checked packages only, and of the JDK a short explicit list.
 */
final class FloatFreeCheck {

  /** The lowbit packages (internal names, with the trailing slash) whose classes may be used; they are checked themselves. */
  private final List<String> packages;

  FloatFreeCheck(List<String> packages) {
    this.packages = List.copyOf(packages);
  }

  /** JDK classes callable with any method (their float-typed methods still fail on the descriptor). */
  static final Set<String> JDK_CLASSES = Set.of(
      "java/lang/Object", "java/lang/String", "java/lang/StringBuilder", "java/lang/Integer", "java/lang/Long",
      "java/lang/Record", "java/lang/Enum", "java/lang/Iterable", "java/lang/Runnable", "java/lang/AutoCloseable",
      "java/lang/IllegalArgumentException", "java/lang/IllegalStateException", "java/lang/ArithmeticException",
      "java/lang/UnsupportedOperationException", "java/lang/RuntimeException", "java/lang/MatchException",
      "java/lang/NullPointerException", "java/lang/InterruptedException", "java/lang/Throwable",
      "java/util/Objects", "java/util/List", "java/util/ArrayList", "java/util/Map", "java/util/HashMap",
      "java/util/Collection", "java/util/Iterator",
      "java/util/concurrent/ExecutorService", "java/util/concurrent/Executors", "java/util/concurrent/Future",
      "java/util/concurrent/ExecutionException", "java/util/concurrent/Callable",
      "jdk/incubator/vector/IntVector", "jdk/incubator/vector/LongVector", "jdk/incubator/vector/ShortVector",
      "jdk/incubator/vector/ByteVector", "jdk/incubator/vector/Vector", "jdk/incubator/vector/VectorSpecies",
      "jdk/incubator/vector/VectorOperators", "jdk/incubator/vector/VectorMask", "jdk/incubator/vector/VectorShape");

  /** JDK classes of which only these methods may be called. */
  static final Map<String, Set<String>> JDK_METHODS = Map.of(
      "java/lang/Math", Set.of("floorDiv", "floorMod", "max", "min", "abs", "multiplyExact", "addExact",
          "subtractExact", "negateExact", "toIntExact", "clamp"),
      "java/lang/System", Set.of("arraycopy"),
      "java/util/Arrays", Set.of("fill", "copyOf", "copyOfRange", "asList", "equals", "hashCode", "toString"),
      "java/lang/Thread", Set.of("currentThread", "interrupt"),
      "java/lang/Class", Set.of("getSimpleName", "getName"));

  /** Bootstrap methods of invokedynamic: lambdas, string concatenation, record methods, pattern switches. */
  static final Set<String> BOOTSTRAPS = Set.of("java/lang/invoke/LambdaMetafactory",
      "java/lang/invoke/StringConcatFactory", "java/lang/runtime/ObjectMethods", "java/lang/runtime/SwitchBootstraps");

  /** Every violation in the class file, each naming the class, the method and the instruction. */
  List<String> check(byte[] classFile) {
    ClassModel cm = ClassFile.of().parse(classFile);
    String cls = cm.thisClass().asInternalName();
    List<String> bad = new ArrayList<>();
    cm.superclass().ifPresent(s -> owner(s.asInternalName(), null, cls + " extends", bad));
    for (FieldModel f : cm.fields()) {
      if (floating(f.fieldTypeSymbol())) bad.add(cls + " field " + f.fieldName() + ": type " + f.fieldType());
    }
    for (MethodModel m : cm.methods()) {
      String where = cls + "." + m.methodName() + m.methodType();
      if (floating(m.methodTypeSymbol())) bad.add(where + ": float or double in the descriptor");
      m.code().ifPresent(code -> {
        for (CodeElement e : code) {
          if (e instanceof Instruction i) instruction(i, where, bad);
        }
      });
    }
    return bad;
  }

  private void instruction(Instruction i, String where, List<String> bad) {
    String op = where + ": " + i.opcode();
    switch (i) {
      case LoadInstruction x -> kind(x.typeKind(), op, bad);
      case StoreInstruction x -> kind(x.typeKind(), op, bad);
      case OperatorInstruction x -> kind(x.typeKind(), op, bad);
      case ReturnInstruction x -> kind(x.typeKind(), op, bad);
      case ArrayLoadInstruction x -> kind(x.typeKind(), op, bad);
      case ArrayStoreInstruction x -> kind(x.typeKind(), op, bad);
      case ConstantInstruction x -> kind(x.typeKind(), op, bad);
      case NewPrimitiveArrayInstruction x -> kind(x.typeKind(), op, bad);
      case ConvertInstruction x -> {
        kind(x.fromType(), op, bad);
        kind(x.toType(), op, bad);
      }
      case NewObjectInstruction x -> owner(x.className().asInternalName(), null, op + " " + x.className().asInternalName(), bad);
      case NewReferenceArrayInstruction x -> desc(x.componentType().asSymbol(), op, bad);
      case NewMultiArrayInstruction x -> desc(x.arrayType().asSymbol(), op, bad);
      case TypeCheckInstruction x -> desc(x.type().asSymbol(), op, bad);
      case FieldInstruction x -> {
        desc(x.typeSymbol(), op + " " + x.owner().asInternalName() + "." + x.name(), bad);
        owner(x.owner().asInternalName(), null, op, bad);
      }
      case InvokeInstruction x -> {
        String call = op + " " + x.owner().asInternalName() + "." + x.name() + x.type();
        if (floating(x.typeSymbol())) bad.add(call + ": float or double in the descriptor");
        owner(x.owner().asInternalName(), x.name().stringValue(), call, bad);
      }
      case InvokeDynamicInstruction x -> {
        String call = op + " " + x.name() + x.type();
        if (floating(x.typeSymbol())) bad.add(call + ": float or double in the descriptor");
        String bsm = internal(x.bootstrapMethod().owner());
        if (!BOOTSTRAPS.contains(bsm)) bad.add(call + ": bootstrap " + bsm + " is not allowed");
        for (ConstantDesc arg : x.bootstrapArgs()) {
          if (arg instanceof DirectMethodHandleDesc h) {
            String target = call + " -> " + h.owner().descriptorString() + "." + h.methodName() + h.lookupDescriptor();
            if (floating(h.invocationType())) bad.add(target + ": float or double in the descriptor");
            owner(internal(h.owner()), h.methodName(), target, bad);
          }
          if (arg instanceof Float || arg instanceof Double) bad.add(call + ": a float or double constant " + arg);
        }
      }
      default -> {}
    }
  }

  private static String internal(ClassDesc c) {
    String d = c.descriptorString();
    return d.startsWith("L") ? d.substring(1, d.length() - 1) : d;
  }

  /** Whether {@code owner} (and, for the restricted JDK classes, {@code method}) may be used; array types by their element. */
  private void owner(String owner, String method, String what, List<String> bad) {
    String o = owner;
    while (o.startsWith("[")) o = o.substring(1);
    if (o.length() == 1) return; // an array of int, byte, ... (clone)
    if (o.startsWith("L") && o.endsWith(";")) o = o.substring(1, o.length() - 1);
    for (String p : packages) {
      if (o.startsWith(p) && o.indexOf('/', p.length()) < 0) return;
    }
    if (o.startsWith("dev/lowbit/")) {
      bad.add(what + ": lowbit class " + o + " outside " + packages);
    } else if (o.startsWith("jdk/incubator/vector/VectorOperators$") || JDK_CLASSES.contains(o)) {
      return;
    } else if (JDK_METHODS.containsKey(o)) {
      if (method != null && !JDK_METHODS.get(o).contains(method)) bad.add(what + ": " + o + "." + method + " is not allowed");
    } else {
      bad.add(what + ": class " + o + " is not allowed");
    }
  }

  private static void kind(TypeKind k, String what, List<String> bad) {
    if (k == TypeKind.FLOAT || k == TypeKind.DOUBLE) bad.add(what + " (" + k + ")");
  }

  private static void desc(ClassDesc c, String what, List<String> bad) {
    if (floating(c)) bad.add(what + " (" + c.descriptorString() + ")");
  }

  static boolean floating(ClassDesc c) {
    ClassDesc e = c;
    while (e.isArray()) e = e.componentType();
    return e.descriptorString().equals("F") || e.descriptorString().equals("D");
  }

  static boolean floating(MethodTypeDesc m) {
    if (floating(m.returnType())) return true;
    for (ClassDesc p : m.parameterList()) {
      if (floating(p)) return true;
    }
    return false;
  }
}
