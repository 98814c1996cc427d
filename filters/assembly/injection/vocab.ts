// The words of each concept, in normalized form (normalize.ts: lower case, accents stripped, ß→ss,
// apostrophes and hyphens split words). Inflected forms are listed rather than stemmed: a stemmer
// would be four stemmers, and an explicit list is what a reviewer can check. A word may appear
// under several concepts; its masks are ORed.
//
// Lookup is an open-addressing hash table over the token's bytes, built once per VM, so the hot
// path hashes each word once and allocates nothing.
import * as C from "./concepts";

function fill(): void {
  // ---- instruction override
  add(C.IGNORE, "ignore ignoring ignored ignores disregard disregarding disregarded forget forgetting forgot " +
    "bypass bypassing override overriding circumvent neglect discard skip throw aside abandon dismiss scrap erase wipe drop " +
    "ignorez ignorer ignores oublie oubliez oublier oublies abandonne efface effacez " +
    "ignoriere ignorier ignoriert ignorieren vergiss vergesst vergessen missachte missachten umgehe verwirf losche " +
    "ignora ignoren ignorar ignores olvida olvide olviden olvidar omite omitir descarta descartar borra elimina");
  add(C.ALL, "all everything every any whatever tous toutes tout alle allen alles jeden jede todas todos todo cualquier");
  add(C.PRIOR, "previous prior preceding earlier before former preexisting " +
    "precedentes precedente precedents anterieures anterieurs anterieure avant " +
    "vorherigen vorherige vorigen bisherigen fruheren vorher zuvor vorangegangenen " +
    "anteriores anterior previas previos previa antes");
  add(C.ABOVE, "above dessus oben obigen arriba");
  add(C.INSTR, "instructions instruction rules rule directions directives directive guidelines guideline prompt prompts " +
    "constraints orders commands programming guidance " +
    "consignes consigne regles regle ordres commandes " +
    "anweisungen anweisung regeln anordnungen vorgaben richtlinien befehle instruktionen " +
    "instrucciones instruccion reglas directrices ordenes indicaciones normas pautas");
  add(C.SYSTEM, "system systeme sistema");
  add(C.PROMPT, "prompt prompts");
  add(C.SYSPROMPT, "systemprompt systemprompts sysprompt systemanweisungen systemanweisung systemnachricht metaprompt");
  add(C.NEW, "new updated real actual true nouvelles nouvelle nouveau vraies neue neuen echten nuevas nuevo nueva verdaderas");
  add(C.FOLLOW, "follow following obey comply adhere suivre suis suivez respecter befolge befolgen folge gehorche sigue seguir obedece cumplir");
  add(C.STOP, "stop cease quit arrete arretez hor deja dejes");
  add(C.TOLD, "told said given gave received provided programmed instructed dit donne donnees recu recues fournies gesagt gegeben bekommen erhalten dicho dado dadas dio dieron recibiste recibido programado");
  add(C.MY, "my i me mine myself mes mon ma je moi meine meinen meiner mein ich mir mis mi yo");

  // ---- system-prompt extraction
  add(C.REVEAL, "reveal print show display output tell dump leak disclose share list give spell " +
    "paste copy reproduce quote revele reveler revelez affiche afficher affichez montre montrer montrez donne donnez donner dis copie copier " +
    "zeige zeig gib verrate nenne drucke ausgeben offenbare kopiere " +
    "revela revelar muestra muestrame mostrar imprime dime dame ensena copia pega");
  add(C.REPEAT, "repeat recite repete repeter repetez wiederhole wiederholen repite repetir");
  add(C.REVEAL, "repeat recite repete repeter repetez wiederhole wiederholen repite repetir");
  add(C.YOUR, "your yours thy tes ton ta vos votre deine deinen deiner dein deinem ihre ihren tus tu su sus");
  add(C.THE, "the this le la les ce cette ceci der die das den dem diese dieser diesem el los las esta este esto");
  add(C.WHAT, "what which whats quelles quels quelle quel que was welche welches cuales cual que");
  add(C.INITIAL, "initial original hidden secret first starting confidential internal " +
    "initiales initiale originales cachees secretes internes " +
    "ursprunglichen ursprungliche anfanglichen versteckten geheimen internen " +
    "iniciales inicial originales ocultas secretas internas");
  add(C.TEXT, "text words content texte mots contenu worte wort inhalt texto palabras contenido");
  add(C.VERBATIM, "verbatim exactly textuellement exactement wortlich wortwortlich genau literalmente textualmente exactamente");

  // ---- unlock
  add(C.YOU, "you youre u ya tu toi vous du dich dir eres estas usted");
  add(C.ARE, "are re es etes bist sind seid eres estas now become");
  add(C.NO, "no without zero sans aucune aucun ohne keine kein keinen keinerlei sin ningun ninguna");
  add(C.NEG, "not never don dont doesn didn isn aren won cannot ne n pas jamais nicht nie niemals no nunca jamas");
  add(C.LONGER, "longer anymore plus mehr ya");
  add(C.BOUND, "bound restricted limited constrained obliged obligated subject tied held " +
    "lie liee lies oblige contraint limite soumis " +
    "gebunden verpflichtet eingeschrankt beschrankt " +
    "sujeto sujeta obligado obligada limitado limitada restringido restringida atado");
  add(C.RESTRICT, "restrictions restriction limits limitations filters filter censorship ethics morals morality " +
    "boundaries confines guardrails safeguards safety policies policy guidelines rules " +
    "limites filtres censure ethique morale regles " +
    "einschrankungen beschrankungen grenzen filtern zensur ethik moral regeln richtlinien sicherheitsrichtlinien " +
    "restricciones limitaciones filtros censura etica moral reglas");
  add(C.ACTAS, "act acting pretend roleplay simulate behave agis agissez joue semblant simule comporte " +
    "spiele spiel verhalte simuliere actua actue finge simula comportate juega");
  add(C.UNLOCKED, "unfiltered uncensored unrestricted unlimited unbound unchained unshackled unlocked jailbroken " +
    "debride debridee censure ungefiltert ungefilterte unzensiert unzensierte unzensierten uneingeschrankt uneingeschrankte unbeschrankt entfesselt entfesselte " +
    "desbloqueado desbloqueada ilimitado ilimitada");
  add(C.DEV, "developer developers dev god debug developpeur entwickler desarrollador");
  add(C.MODE, "mode modus modo");
  add(C.DEVMODE, "devmode godmode entwicklermodus debugmodus");
  add(C.ENABLE, "enable enabled activate activated enter entering activer active activez aktiviere aktiviert aktivieren activa activado habilita");
  add(C.DAN, "dan");
  add(C.DO, "do");
  add(C.ANYTHING, "anything");
  add(C.NOW, "now maintenant jetzt nun sofort ahora");
  add(C.FROMNOW, "desormais fortan hinfort adelante");
  add(C.FROM, "from partir ab von desde");
  add(C.JAILBREAK, "jailbreak jailbroken jailbreaking jailbreaked");
  add(C.REFUSE, "refuse refusing decline reject refuser refuses ablehnen verweigern verweigere lehne rechazar rechaces niegues negarte");
  add(C.EVIL, "evil malicious unethical amoral immoral malveillant malefique bose boser bosartig malvado malvada");
  add(C.OUTPUT, "output response answer answers reply respond sortie reponse reponds repondre antwort ausgabe beantworte antworte respuesta salida responde contesta");

  // ---- hidden instructions in documents
  add(C.AI, "ai assistant assistants model llm llms chatbot chatgpt gpt claude bot agent copilot gemini " +
    "ia assistante modele ki assistent modell sprachmodell asistente modelo");
  add(C.NOTE, "note notice reminder memo attention message remarque hinweis notiz achtung nachricht nota aviso mensaje");
  add(C.TOFOR, "to for pour a an fur para al");
  add(C.IF, "if si wenn falls");
  add(C.SUMMARIZE, "summarize summarizing summarise summarising summary summarizes resume resumes resumer resumant " +
    "zusammenfassen zusammenfassung fasst resumir resumiendo resumen resumas");
  add(C.WHEN, "when while whenever quand lorsque lorsqu wenn beim sobald cuando mientras");
  add(C.ALSO, "also additionally include append insert add aussi egalement ajoute ajouter inclus inclure " +
    "auch ausserdem zusatzlich fuge hinzu ademas tambien incluye anade agrega");
  add(C.USER, "user users utilisateur utilisatrice benutzer nutzer nutzerin usuario usuaria");
  add(C.MENTION, "mention tell say disclose inform reveal mentionne mentionner dis dire erwahne erwahnen sag sage verrate menciones digas menciona decir");
  add(C.META, "injection injections example examples detect detection detector detecting classifier defend defense defence " +
    "mitigate mitigation attack attacks attacker security researcher " +
    "exemple exemples detecter securite attaque beispiel beispiele erkennen sicherheit angriff " +
    "ejemplo ejemplos detectar seguridad ataque");
  add(C.ACCOUNT, "account attention heed compte cas cuenta caso beachte beachten beachtung");
  add(C.FREE, "freed free liberated released befreit libere liberee liberado liberada");
  add(C.READING, "reading processing screening parsing analyzing lit lis lisant traite liest verarbeitest durchsuchst leyendo lees procesando analizando");
  add(C.AND, "and et und y");
  add(C.VOID, "void invalid cancelled canceled obsolete null revoked off disabled deactivated lifted removed suspended " +
    "nulles annulees invalides desactives desactivees levees ungultig aufgehoben deaktiviert abgeschaltet ausgeschaltet " +
    "nulas anuladas invalidas desactivados desactivadas apagados");
  add(C.REPORTED, "asks tells tries attempts requests demandent essaie bittet fordert versucht pide pidan intenta");
  add(C.ROLEWORD, "im endoftext inst sys eot");
}

// ---- the table --------------------------------------------------------------------------------

// Open addressing over flat arrays: a slot holds the word's full hash, its length (0 = empty) and
// where its bytes start in `pool`. A probe compares the hash and the length first, so a word
// outside the vocabulary almost never reads a byte of a stored one, and no lookup touches a
// String (the words are ASCII: `pool` holds them one byte a letter).
const TABLE_SIZE: i32 = 4096; // power of two, > 4 × the vocabulary: short probe chains
const slotHash = new StaticArray<u32>(TABLE_SIZE);
const slotLen = new StaticArray<i32>(TABLE_SIZE);
const slotOff = new StaticArray<i32>(TABLE_SIZE);
const slotMask = new StaticArray<u64>(TABLE_SIZE);
let pool = new StaticArray<u8>(8192); // grows at build if the lists outgrow it
let poolUsed: i32 = 0;
/** Longest word of the vocabulary: a longer one needs no lookup. */
let longest: i32 = 0;
let built: bool = false;

/** FNV-1a over `len` bytes at `ptr`. */
@inline function hashBytes(ptr: usize, len: i32): u32 {
  let h: u32 = 2166136261;
  for (let i = 0; i < len; i++) h = (h ^ <u32>load<u8>(ptr + <usize>i)) * 16777619;
  return h;
}

/** Where word `ptr`/`len` sits in the table, or the empty slot where it would go (index, or -1 - index). */
function findSlot(h: u32, ptr: usize, len: i32): i32 {
  let i = <i32>(h & <u32>(TABLE_SIZE - 1));
  while (true) {
    const l = unchecked(slotLen[i]);
    if (l == 0) return -1 - i;
    if (unchecked(slotHash[i]) == h && l == len &&
      memory.compare(changetype<usize>(pool) + <usize>unchecked(slotOff[i]), ptr, <usize>len) == 0) return i;
    i = (i + 1) & (TABLE_SIZE - 1);
  }
}

function addWord(mask: u64, w: string): void {
  // The lists are lower-case ASCII (checked here, so a typo cannot make a word unreachable).
  const len = w.length;
  if (poolUsed + len > pool.length) {
    const bigger = new StaticArray<u8>(pool.length * 2);
    memory.copy(changetype<usize>(bigger), changetype<usize>(pool), <usize>poolUsed);
    pool = bigger;
  }
  const at = changetype<usize>(pool) + <usize>poolUsed;
  for (let k = 0; k < len; k++) {
    const c = w.charCodeAt(k);
    assert(c >= 0x61 && c <= 0x7A, "injection vocabulary: not a normalized word: " + w);
    store<u8>(at + <usize>k, <u8>c);
  }
  const h = hashBytes(at, len);
  const i = findSlot(h, at, len);
  if (i >= 0) { unchecked(slotMask[i] |= mask); return; }
  const e = -1 - i;
  unchecked(slotHash[e] = h);
  unchecked(slotLen[e] = len);
  unchecked(slotOff[e] = poolUsed);
  unchecked(slotMask[e] = mask);
  poolUsed += len;
  if (len > longest) longest = len;
}

function add(mask: u64, words: string): void {
  const list = words.split(" ");
  for (let i = 0; i < list.length; i++) if (list[i].length > 0) addWord(mask, list[i]);
}

/** Builds the table (once per VM; idempotent). */
export function buildVocab(): void {
  if (built) return;
  built = true;
  fill();
}

/** The concepts of the ASCII word of `len` bytes at `ptr`; 0 for a word outside the vocabulary. */
export function lookupWord(ptr: usize, len: i32): u64 {
  if (len == 0 || len > longest) return 0;
  const i = findSlot(hashBytes(ptr, len), ptr, len);
  return i < 0 ? 0 : unchecked(slotMask[i]);
}

/** The concepts of `word` (already normalized); for tests and the pattern table. */
export function lookupString(word: string): u64 {
  buildVocab();
  const b = String.UTF8.encode(word);
  return lookupWord(changetype<usize>(b), b.byteLength);
}
