package dev.dit4j.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles every {@code ```java} block of {@code README.md} and {@code docs/*.md} against the
 * library, so that a snippet the API has moved away from fails the build with its file and line.
 *
 * <p>How a block is compiled:
 * <ul>
 *   <li>Every block gets the {@link #IMPORTS standard imports} (every dit4j package, {@code java.nio.file},
 *       {@code java.util}, {@code java.io}, {@code java.awt.image.BufferedImage}, {@code javax.imageio.ImageIO}),
 *       in a package of its own.</li>
 *   <li>A block that declares a top-level type (a line that starts with {@code class}, {@code record},
 *       {@code interface} or {@code enum}, possibly after modifiers) is a source file as it is; its own
 *       {@code import} lines are kept.</li>
 *   <li>Any other block is statements: the body of {@code void run(...) throws Exception}.</li>
 *   <li>Names a statement block uses but does not declare are declared by an HTML comment on the line
 *       before the block (blank lines between are allowed), as the method's parameters:
 *       {@code <!-- given: Path weights; Device device -->}.</li>
 * </ul>
 * Nothing runs: the blocks are only compiled.
 */
class DocSnippetsTest {
    static final List<String> IMPORTS = List.of(
            "dev.dit4j.nn.*", "dev.dit4j.nn.io.*", "dev.dit4j.nn.layers.*", "dev.dit4j.nn.optim.*", "dev.dit4j.nn.dist.*",
            "dev.dit4j.models.*", "dev.dit4j.models.family.*", "dev.dit4j.models.pipeline.*", "dev.dit4j.models.train.*",
            "dev.dit4j.models.sampling.*", "dev.dit4j.models.diffusion.*", "dev.dit4j.models.data.*", "dev.dit4j.models.vae.*",
            "dev.dit4j.models.text.*", "dev.dit4j.models.embed.*", "dev.dit4j.models.microdit.*", "dev.dit4j.models.eval.*",
            "dev.dit4j.models.flow.*",
            "java.nio.file.*", "java.util.*", "java.util.function.*", "java.io.*", "java.time.Duration",
            "java.awt.image.BufferedImage", "javax.imageio.ImageIO",
            // single-type imports win over java.lang's and the other packages' names
            "dev.dit4j.nn.Module", "dev.dit4j.nn.Shapes");

    private static final Pattern FENCE = Pattern.compile("^```(\\S*)\\s*$");
    private static final Pattern GIVEN = Pattern.compile("^<!--\\s*given:(.*?)-->\\s*$");
    private static final Pattern TYPE = Pattern.compile(
            "^(?:(?:public|final|abstract|sealed|non-sealed|static)\\s+)*(?:class|record|interface|enum)\\s+(\\w+)", Pattern.MULTILINE);

    /** A {@code ```java} block: where it is, what it declares as given, its code, and the source it compiles as. */
    record Block(Path file, int line, String given, String code) {
        String where() {
            return file.getFileName() + ":" + line;
        }
    }

    /** A block as a source file; {@code offset} is the number of lines before the block's first line. */
    record Source(Block block, JavaFileObject file, int offset) {}

    @Test
    void everyJavaSnippetInTheDocsCompiles(@TempDir Path classes) throws IOException {
        Path root = repositoryRoot();
        List<Path> docs = new ArrayList<>();
        docs.add(root.resolve("README.md"));
        try (Stream<Path> pages = Files.list(root.resolve("docs"))) {
            pages.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        List<Block> blocks = new ArrayList<>();
        for (Path doc : docs) blocks.addAll(blocks(doc));
        assertTrue(blocks.size() >= 10, "found only " + blocks.size() + " java blocks in " + docs);

        List<Source> sources = new ArrayList<>();
        for (int i = 0; i < blocks.size(); i++) sources.add(source(blocks.get(i), "snippet" + i));

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<String> options = List.of("-classpath", System.getProperty("java.class.path"), "-d", classes.toString(), "-proc:none", "-Xlint:none",
                "-nowarn");
        boolean ok = javac.getTask(null, null, diagnostics, options, null, sources.stream().map(Source::file).toList()).call();

        List<String> errors = new ArrayList<>();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() != Diagnostic.Kind.ERROR) continue;
            Source s = sources.stream().filter(x -> x.file() == d.getSource()).findFirst().orElse(null);
            String where = s == null ? "?" : s.block().file().getFileName() + ":" + (s.block().line() + d.getLineNumber() - s.offset() - 1);
            String block = s == null ? "" : " (block at " + s.block().where() + ")";
            errors.add(where + block + ": " + d.getMessage(Locale.ROOT));
        }
        if (!ok || !errors.isEmpty()) fail(errors.size() + " compile errors in doc snippets:\n" + String.join("\n", errors));
    }

    /** The folder holding README.md and docs/, from the module's folder or any folder below the root. */
    static Path repositoryRoot() {
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("docs"))) return p;
        }
        throw new IllegalStateException("no README.md with docs/ above " + System.getProperty("user.dir"));
    }

    /** The {@code ```java} blocks of a markdown file, each with its first code line (1-based) and its given declarations. */
    static List<Block> blocks(Path doc) throws IOException {
        List<String> lines = Files.readAllLines(doc);
        List<Block> found = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher open = FENCE.matcher(lines.get(i));
            if (!open.matches() || open.group(1).isEmpty()) continue;
            int end = i + 1;
            while (end < lines.size() && !lines.get(end).strip().equals("```")) end++;
            if (end == lines.size()) throw new IllegalStateException(doc + ":" + (i + 1) + ": unclosed ``` block");
            if (open.group(1).equals("java")) {
                found.add(new Block(doc, i + 2, given(lines, i), String.join("\n", lines.subList(i + 1, end))));
            }
            i = end;
        }
        return found;
    }

    /** The declarations of a {@code <!-- given: ... -->} line just before the fence at {@code fence} (blank lines skipped), or "". */
    private static String given(List<String> lines, int fence) {
        int j = fence - 1;
        while (j >= 0 && lines.get(j).isBlank()) j--;
        if (j < 0) return "";
        Matcher m = GIVEN.matcher(lines.get(j).strip());
        if (!m.matches()) return "";
        return String.join(", ", Stream.of(m.group(1).split(";")).map(String::strip).filter(s -> !s.isEmpty()).toList());
    }

    /** A block as the source file it compiles as, in package {@code pkg}. */
    static Source source(Block b, String pkg) {
        StringBuilder head = new StringBuilder("package " + pkg + ";\n");
        for (String imp : IMPORTS) head.append("import ").append(imp).append(";\n");
        Matcher type = TYPE.matcher(b.code());
        String name, text, tail;
        if (type.find()) {
            name = type.group(1);
            text = head.toString();
            tail = "\n";
        } else {
            name = "Snippet";
            text = head + "class Snippet {\n    void run(" + b.given() + ") throws Exception {\n";
            tail = "\n    }\n}\n";
        }
        int offset = (int) text.chars().filter(c -> c == '\n').count();
        String all = text + b.code() + tail;
        URI uri = URI.create("string:///" + pkg + "/" + name + JavaFileObject.Kind.SOURCE.extension);
        JavaFileObject file = new SimpleJavaFileObject(uri, JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return all;
            }
        };
        return new Source(b, file, offset);
    }
}
