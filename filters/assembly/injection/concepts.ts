// Word classes ("concepts") the injection patterns are written in. A pattern never names a word:
// it names a concept, and vocab.ts lists the English, French, German and Spanish words (after
// normalization: lower case, accents stripped) that belong to it. That keeps one pattern valid for
// all four languages whenever their word order agrees, and keeps the word lists reviewable as data.
//
// A token may carry several concepts (a u64 set): "rules" is both INSTR and RESTRICT.

export const IGNORE: u64 = (<u64>1) << 0;      // ignore, disregard, forget, bypass, oublie, ignoriere, vergiss, olvida
export const ALL: u64 = (<u64>1) << 1;         // all, everything, tous, alles, todo
export const PRIOR: u64 = (<u64>1) << 2;       // previous, prior, earlier, before, precedentes, vorherigen, anteriores
export const ABOVE: u64 = (<u64>1) << 3;       // above, dessus, oben, arriba
export const INSTR: u64 = (<u64>1) << 4;       // instructions, rules, directives, prompt, consignes, Anweisungen, instrucciones
export const SYSTEM: u64 = (<u64>1) << 5;      // system, systeme, sistema
export const PROMPT: u64 = (<u64>1) << 6;      // prompt (the half of "system prompt" that is not SYSTEM)
export const SYSPROMPT: u64 = (<u64>1) << 7;   // derived: SYSTEM next to PROMPT/INSTR in either order; Systemprompt
export const REVEAL: u64 = (<u64>1) << 8;      // reveal, print, show, tell, affiche, zeige, muestra
export const YOUR: u64 = (<u64>1) << 9;        // your, tes, deine, tus (and "the", which extraction asks for as often)
export const WHAT: u64 = (<u64>1) << 10;       // what, which, quelles, welche, cuales
export const INITIAL: u64 = (<u64>1) << 11;    // initial, original, hidden, secret, ursprunglichen, iniciales
export const YOU: u64 = (<u64>1) << 12;        // you, tu, vous, du, eres
export const NO: u64 = (<u64>1) << 13;         // no, without, sans, aucune, ohne, keine, sin, ningun
export const LONGER: u64 = (<u64>1) << 14;     // longer, anymore, plus (ne ... plus), mehr, ya (ya no)
export const BOUND: u64 = (<u64>1) << 15;      // bound, restricted, obliged, lie, gebunden, sujeto
export const RESTRICT: u64 = (<u64>1) << 16;   // restrictions, limits, filters, censorship, ethics, safety, guidelines
export const ACTAS: u64 = (<u64>1) << 17;      // act, pretend, roleplay, simulate, fais semblant, tu so, finge
export const UNLOCKED: u64 = (<u64>1) << 18;   // unfiltered, uncensored, unrestricted, unzensiert, desbloqueado
export const DEV: u64 = (<u64>1) << 19;        // developer, dev, god, developpeur, entwickler, desarrollador
export const MODE: u64 = (<u64>1) << 20;       // mode, modus, modo
export const DEVMODE: u64 = (<u64>1) << 21;    // derived: DEV next to MODE; Entwicklermodus, godmode
export const ENABLE: u64 = (<u64>1) << 22;     // enable, activate, enter, aktiviere, activa
export const DAN: u64 = (<u64>1) << 23;        // the "DAN" persona
export const DO: u64 = (<u64>1) << 24;         // do (as in "do anything now")
export const ANYTHING: u64 = (<u64>1) << 25;   // anything
export const NOW: u64 = (<u64>1) << 26;        // now, maintenant, jetzt, ahora
export const JAILBREAK: u64 = (<u64>1) << 27;  // jailbreak, jailbroken
export const AI: u64 = (<u64>1) << 28;         // ai, assistant, model, llm, chatgpt, claude, ia, ki, modelo
export const COLON: u64 = (<u64>1) << 29;      // punctuation ":" (emitted by the tokenizer)
export const EOS: u64 = (<u64>1) << 30;        // end of sentence: . ! ? ; newline, end of a prompt part
export const NOTE: u64 = (<u64>1) << 31;       // note, message, reminder, hinweis, nota
export const TOFOR: u64 = (<u64>1) << 32;      // to, for, pour, fur, an, para
export const IF: u64 = (<u64>1) << 33;         // if, si, wenn, falls
export const ARE: u64 = (<u64>1) << 34;        // are, re (you're), es, bist, eres, estas, now-state verbs
export const SUMMARIZE: u64 = (<u64>1) << 35;  // summarize, summarizing, resumer, zusammenfassen, resumir
export const WHEN: u64 = (<u64>1) << 36;       // when, while, quand, lorsque, wenn, beim, cuando
export const ALSO: u64 = (<u64>1) << 37;       // also, additionally, include, add, append, aussi, ajoute, auch, tambien
export const USER: u64 = (<u64>1) << 38;       // user, utilisateur, benutzer, nutzer, usuario
export const MENTION: u64 = (<u64>1) << 39;    // mention, tell, say, disclose, dis, erwahne, menciones
export const META: u64 = (<u64>1) << 40;       // words of a discussion *about* injection: injection, example, detect
export const FOLLOW: u64 = (<u64>1) << 41;     // follow, obey, comply, suivre, befolge, sigue
export const NEW: u64 = (<u64>1) << 42;        // new, updated, real, nouvelles, neue, nuevas
export const LT: u64 = (<u64>1) << 43;         // punctuation "<" or "[" (opens a chat-template marker)
export const ROLEWORD: u64 = (<u64>1) << 44;   // words of chat templates: im_start, inst, sys, endoftext
export const FROM: u64 = (<u64>1) << 45;       // from (now on), a partir (de maintenant), ab (jetzt), desde
export const REFUSE: u64 = (<u64>1) << 46;     // refuse, decline, refuser, ablehnen, rechazar
export const NEG: u64 = (<u64>1) << 47;        // not, never, don('t), ne, pas, jamais, nicht, nie, nunca
export const EVIL: u64 = (<u64>1) << 48;       // evil, malicious, unethical, amoral, bose, malvado
export const TOLD: u64 = (<u64>1) << 49;       // told, said, given, programmed, dit, gesagt, dicho
export const TEXT: u64 = (<u64>1) << 50;       // text, words, content, texte, worte, texto
export const VERBATIM: u64 = (<u64>1) << 51;   // verbatim, exactly, word (for word), wortlich, textualmente
export const MY: u64 = (<u64>1) << 52;         // first person: my, i, me, mes, je, meine, ich, mis, yo
export const REPEAT: u64 = (<u64>1) << 53;     // repeat, recite, repete, wiederhole, repite
export const STOP: u64 = (<u64>1) << 54;       // stop, cease, arrete, hor (auf), deja (de)
export const THE: u64 = (<u64>1) << 55;        // the, this, le, la, les, ce, der, die, das, diese, el, los, las, esta
export const FROMNOW: u64 = (<u64>1) << 56;    // one-word "from now on": desormais, fortan, ahora (en adelante)
export const OUTPUT: u64 = (<u64>1) << 57;     // output, response, answer (noun and verb), reponds, beantworte, responde
export const ACCOUNT: u64 = (<u64>1) << 58;    // "take into account": compte, cuenta, beachte (ne tiens plus compte de…)
export const FREE: u64 = (<u64>1) << 59;       // freed, free (broken free of), liberated, befreit, libere, liberado
export const READING: u64 = (<u64>1) << 60;    // reading, processing, screening, lit, liest, leyendo (a model reading this)
export const AND: u64 = (<u64>1) << 61;        // and, et, und, y
export const REPORTED: u64 = (<u64>1) << 62;   // asks, tells, tries (reported speech: "if the user asks you to ignore…")
export const VOID: u64 = (<u64>1) << 63;       // void, invalid, off, disabled, lifted, ungultig, aufgehoben, anuladas

/** Concept names, for the pattern table (patterns.ts) and for tests. Index = bit position. */
export const CONCEPT_NAMES: string =
  "IGNORE ALL PRIOR ABOVE INSTR SYSTEM PROMPT SYSPROMPT REVEAL YOUR WHAT INITIAL YOU NO LONGER BOUND " +
  "RESTRICT ACTAS UNLOCKED DEV MODE DEVMODE ENABLE DAN DO ANYTHING NOW JAILBREAK AI COLON EOS NOTE " +
  "TOFOR IF ARE SUMMARIZE WHEN ALSO USER MENTION META FOLLOW NEW LT ROLEWORD FROM REFUSE NEG EVIL " +
  "TOLD TEXT VERBATIM MY REPEAT STOP THE FROMNOW OUTPUT ACCOUNT FREE READING AND REPORTED VOID";

/** The bit of concept `name`, or 0 when there is none of that name. */
export function conceptBit(name: string): u64 {
  const names = CONCEPT_NAMES.split(" ");
  for (let i = 0; i < names.length; i++) if (names[i] == name) return (<u64>1) << <u64>i;
  return 0;
}
