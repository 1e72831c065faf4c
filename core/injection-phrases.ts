/**
 * The phrasings of injected instructions, as data per language: add a language's rows here, and
 * every pipeline that reads user text finds them. Each list is matched case aside, after zero-width
 * characters are dropped and look-alike letters mapped back (see core/injection.ts).
 *
 * - `override`: "ignore the above", "you are now", "new instructions:" — an attempt to replace the
 *   task's instructions
 * - `reveal`: a request for the prompt, the instructions or the configuration behind the answer
 * - `directive`: an order about what the answer must contain ("in your reply include this link"),
 *   which a customer, a reviewer or an author has no reason to give the model that reads them
 * - `addressee` and `imperative`: words that name the model or its output, and verbs that order
 *   it about; text hidden in a comment or an image's alt text, or written under a chat-role header,
 *   is an instruction when it carries one of each (under a role header, also one of `you`)
 * - `roles`: the names of chat roles as a line's header ("System:", "Hệ thống:", "系统：")
 */

export interface LanguagePhrases {
  override: readonly RegExp[];
  reveal: readonly RegExp[];
  directive: readonly RegExp[];
  addressee: readonly RegExp[];
  imperative: readonly RegExp[];
  /** words that speak to the model itself (you, the assistant, the policy it follows): what a fake role message does */
  you: readonly RegExp[];
  roles: readonly string[];
}

export const INJECTION_PHRASES: Readonly<Record<string, LanguagePhrases>> = {
  en: {
    override: [
      /\b(?:ignore|disregard|forget|override|bypass|skip)\s+(?:all\s+|any\s+|every\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+|these\s+|those\s+)?(?:previous|prior|above|earlier|preceding|system|original|old|initial|existing|current)?\s*(?:instructions?|rules|prompts?|guidelines|polic(?:y|ies)|directions|directives|constraints|programming|safeguards)\b/i,
      /\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+|anything\s+)?(?:the\s+)?(?:text\s+|stuff\s+|content\s+)?(?:above|before\s+this|previously\s+(?:said|written|stated))\b(?!\s+(?:e-?mail|message|mail|ticket|note|comment|review|letter))/i,
      /\byou\s+are\s+now\b/i,
      /\bfrom\s+now\s+on,?\s+(?:you|the\s+(?:assistant|model|ai|bot))\b/i,
      /\b(?:act|behave)\s+as\s+(?:an?\s+)?(?:unrestricted|jailbroken|different|new|admin|developer|root)\b/i,
      /\bpretend\s+(?:to\s+be|you\s+are)\b/i,
      /\bnew\s+(?:instructions?|rules|task|role|system\s+prompt|policy)\s*[:：]/i,
      /\b(?:you\s+are\s+(?:now\s+)?in|switch\s+(?:in)?to|enter)\s+(?:god|jailbreak|DAN|unrestricted)\s+mode\b/i,
      /\b(?:as\s+an?\s+)?(?:ai|assistant|language\s+model|chatbot|llm|bot)\s*,?\s+you\s+(?:must|should|will|are\s+required\s+to)\b/i,
      /\b(?:respond|reply|answer|output)\s+only\s+with\b/i,
      /\b(?:note|message|instructions?)\s+(?:to|for)\s+(?:the\s+)?(?:ai|assistant|model|llm|chatbot|bot|summari[sz]er|reviewer\s+bot)\b/i,
      /\b(?:dear|hey|hi|attention)\s+(?:ai|assistant|llm|chatgpt|gpt|model|bot|chatbot)\b/i,
      /\bsystem\s+(?:prompt|override|instructions?)\b/i,
    ],
    reveal: [
      /\b(?:reveal|show|print|repeat|output|display|tell|give|share|write\s+out|copy|paste|list|dump|leak|recite)\s+(?:me\s+|us\s+)?(?:all\s+)?(?:of\s+)?(?:your|the)\s+(?:full\s+|complete\s+|exact\s+|original\s+|hidden\s+|initial\s+|entire\s+|internal\s+|secret\s+)?(?:system\s+prompt|system\s+message|initial\s+instructions|context\s+blocks?)\b/i,
      /\b(?:reveal|print|repeat|output|dump|leak|recite|write\s+out)\s+(?:me\s+|us\s+)?(?:all\s+)?(?:of\s+)?your\s+(?:full\s+|complete\s+|exact\s+|original\s+|hidden\s+|initial\s+|entire\s+|internal\s+|secret\s+)?(?:prompt|instructions|rules\s+you\s+follow|configuration)\b/i,
      /\bwhat\s+(?:are|were)\s+your\s+(?:instructions|rules|system\s+prompt|guidelines)\b/i,
      /\b(?:text|instructions|everything)\s+(?:above|before\s+this)\s+verbatim\b/i,
      /\bverbatim\b[^.\n]{0,40}\b(?:prompt|instructions)\b/i,
    ],
    directive: [
      /\b(?:in|to|into|at\s+the\s+(?:end|start)\s+of)\s+(?:your|the|every|each|all)\s+(?:reply|replies|response|responses|answer|answers|summary|summaries|review|output|verdict)\b[^.\n]{0,80}\b(?:include|add|write|say|mention|put|insert|paste|link|state|tell|recommend|append)\b/i,
      /\b(?:include|add|insert|append|mention|paste|put)\s+(?:this|the\s+following|the|our|my)\s+(?:link|url|code|text|sentence|message|line|phone\s+number|number|website)\b[^.\n]{0,60}\b(?:in|to|into)\s+(?:your|the|every|each)\s+(?:reply|response|answer|summary|review|output)/i,
      /\b(?:the\s+)?(?:reply|response|answer|summary|review|output)\s+(?:must|should|shall|has\s+to|needs\s+to|will)\s+(?:always\s+)?(?:include|contain|say|mention|state|end\s+with|start\s+with|begin\s+with|link|recommend|tell)\b/i,
      /\btell\s+(?:the\s+|every\s+|all\s+)?(?:customers?|users?|readers?|buyers?)\s+to\s+(?:visit|click|go\s+to|open|log\s+in|verify|confirm|call|send|pay)\b/i,
      /\b(?:category|priority|verdict)\s+(?:must|should|has\s+to)\s+be\s+(?:set\s+to\s+)?["']/i,
    ],
    addressee: [/\b(?:ai|assistant|llm|gpt|chatgpt|model|bot|chatbot|summari[sz]er|reviewer|reply|replies|response|answer|summary|output|verdict|priority|category|instructions?|prompt|customers?|readers?|buyers?)\b/i],
    imperative: [/\b(?:ignore|disregard|forget|include|insert|append|add|print|reveal|recommend|rate|must|say|write|tell|set|mark|give|offer|respond|reply\s+with|output|classify|summari[sz]e\s+(?:this|it)\s+as|state|confirm|send|visit|click|log\s+in|enter|pay)\b/i],
    you: [/\b(?:ai|assistant|model|llm|bot|chatbot|you|your|policy|policies|every\s+(?:reply|response|answer|summary)|all\s+(?:replies|responses|answers|summaries))\b/i],
    roles: ['system', 'developer', 'assistant', 'tool', 'function', 'admin', 'administrator', 'operator', 'system message', 'system prompt', 'developer message', 'tool output', 'tool result', 'function result', 'instructions'],
  },
  // Indonesian and Malay
  id: {
    override: [
      /\b(?:abaikan|lupakan|acuhkan|hiraukan|jangan\s+ikuti|jangan\s+ikut)\s+(?:semua\s+|segala\s+|seluruh\s+)?(?:yang\s+)?(?:instruksi|perintah|arahan|aturan|peraturan|prompt|di\s+atas|sebelumnya|sebelum\s+ini)\b/i,
      /\b(?:instruksi|arahan|perintah|aturan)\s+baru\s*[:：]/i,
      /\b(?:kamu|anda|awak)\s+sekarang\s+(?:adalah|ialah|menjadi)\b/i,
      /\bmulai\s+sekarang,?\s+(?:kamu|anda|awak)\b/i,
      /\bmode\s+(?:admin|pengembang|developer|debug)\b/i,
    ],
    reveal: [
      /\b(?:tampilkan|tunjukkan|tulis(?:kan)?|salin|ulangi|sebutkan|berikan|bocorkan|cetak|paparkan)\s+(?:semua\s+|seluruh\s+)?(?:prompt|instruksi|perintah|arahan)\s*(?:sistem|awal|asli|kamu|anda)?\b/i,
    ],
    directive: [
      /\b(?:dalam|di|pada)\s+(?:setiap\s+)?(?:balasan|jawaban|respons|respon|ringkasan|ulasan|rangkuman)(?:mu|nya|\s+anda|\s+kamu)?\b[^.\n]{0,80}\b(?:sertakan|tambahkan|tulis(?:kan)?|masukkan|cantumkan|sebutkan|berikan)\b/i,
      /\b(?:sertakan|tambahkan|cantumkan)\s+(?:link|tautan|kode|url|nomor|pesan)\s+(?:ini\s+)?(?:di|ke|dalam)\s+(?:setiap\s+)?(?:balasan|jawaban|respons|ringkasan|ulasan)\b/i,
    ],
    addressee: [/\b(?:balasan|jawaban|respons|ringkasan|ulasan|instruksi|perintah|arahan|prioritas|kategori|asisten|model|pelanggan|pembaca|AI|pautan|nota)\b/i],
    imperative: [/\b(?:abaikan|sertakan|tulis(?:kan)?|tambahkan|berikan|beri|katakan|beritahu|tampilkan|masukkan|harus|mesti|minta|klik|kunjungi|log\s+masuk)\b/i],
    you: [/\b(?:kamu|anda|awak|asisten|AI|model|setiap\s+(?:balasan|jawaban|ringkasan)|kebijakan)\b/i],
    roles: ['sistem', 'pesan sistem', 'pengembang', 'asisten', 'alat'],
  },
  // Hindi and Hinglish
  hi: {
    override: [
      /\b(?:pichhle|pichle|upar\s+ke|upar\s+wale|upar\s+likhe|purane|saare|sabhi)\s+(?:saare\s+|sab\s+|sabhi\s+)?(?:instructions?|nirdesh|rules|niyam)\s+(?:ko\s+)?(?:ignore|bhool|bhul|chhod|chod)/i,
      /\b(?:instructions?|rules|nirdesh)\s+(?:ko\s+)?(?:ignore|bhool|bhul)\s*(?:karo|kar\s+do|kardo|jao|ja|do)\b/i,
      /\b(?:upar|pehle)\s+(?:jo\s+)?(?:likha|bola|kaha)\s+(?:hai\s+)?(?:sab\s+|wo\s+sab\s+|use\s+)?(?:ignore|bhool|bhul|chhod)/i,
      /\b(?:ab\s+se\s+)?(?:tum|aap)\s+ab\s+(?:ek\s+)?(?:admin|developer|naya\s+(?:bot|assistant|ai))\s+(?:ho|hai|hain|bano)\b/i,
      /(?:पिछले|ऊपर\s+के|पुराने|सभी)\s+(?:सभी\s+|सारे\s+)?(?:निर्देश(?:ों)?|नियम(?:ों)?)\s+(?:को\s+)?(?:अनदेखा|भूल|नज़रअंदाज़|नजरअंदाज)/u,
      /ऊपर\s+(?:लिखा|कहा)\s+(?:सब\s+)?(?:कुछ\s+)?(?:भूल|अनदेखा)/u,
    ],
    reveal: [/\b(?:apna|apne|tumhara|aapka)\s+(?:system\s+)?(?:prompt|instructions?)\s+(?:batao|bata\s+do|dikhao|dikha\s+do|likho|likh\s+do|share\s+karo)\b/i, /(?:सिस्टम\s+प्रॉम्प्ट|अपने\s+निर्देश)\s+(?:बताओ|दिखाओ)/u],
    directive: [/\b(?:reply|jawab|response|summary)\s+(?:mein|me|main)\s+(?:ye|yeh|is|ek)?\s*(?:link|code|number|line)\s+(?:daalo|dalo|daal\s+do|likho|add\s+karo|jodo)\b/i],
    addressee: [/\b(?:reply|jawab|bot|ai|instructions?|nirdesh|prompt|summary|customer)\b/i],
    imperative: [/\b(?:karo|kar\s+do|likho|batao|daalo|dalo|bhejo|ignore|bhool|do)\b/i],
    you: [/\b(?:aap|tum|bot|ai|assistant|har\s+reply)\b/i],
    roles: ['system', 'sistam'],
  },
  vi: {
    override: [
      /\b(?:bỏ\s+qua|phớt\s+lờ|quên(?:\s+đi|\s+hết)?|lờ\s+đi|đừng\s+làm\s+theo)\s+(?:tất\s+cả\s+|mọi\s+|toàn\s+bộ\s+|hết\s+)?(?:các\s+|những\s+)?(?:hướng\s+dẫn|chỉ\s+dẫn|lệnh|quy\s+tắc|yêu\s+cầu\s+trước|điều\s+(?:ở\s+)?trên|nội\s+dung\s+(?:ở\s+)?trên|thứ\s+(?:ở\s+)?trên)/iu,
      /\b(?:hướng\s+dẫn|chỉ\s+dẫn|lệnh|quy\s+tắc)\s+mới\s*[:：]/iu,
      /\b(?:bạn|mày)\s+(?:bây\s+giờ|giờ\s+đây)\s+là\b/iu,
      /\btừ\s+bây\s+giờ,?\s+bạn\b/iu,
      /\bchế\s+độ\s+(?:quản\s+trị|admin|nhà\s+phát\s+triển|developer)\b/iu,
    ],
    reveal: [/\b(?:hiển\s+thị|in\s+ra|cho\s+(?:tôi\s+)?xem|lặp\s+lại|tiết\s+lộ|viết\s+ra|chép\s+lại)\s+(?:toàn\s+bộ\s+)?(?:lời\s+nhắc|prompt|hướng\s+dẫn|chỉ\s+dẫn|câu\s+lệnh)(?:\s+hệ\s+thống|\s+của\s+bạn|\s+ban\s+đầu)?/iu],
    directive: [
      /\btrong\s+(?:mọi\s+|mỗi\s+)?(?:câu\s+)?(?:trả\s+lời|phản\s+hồi|bản\s+tóm\s+tắt|tóm\s+tắt|đánh\s+giá)\b[^.\n]{0,80}\b(?:thêm|chèn|ghi|viết|đưa|nhắc|kèm)\b/iu,
      /\b(?:thêm|chèn|đưa|kèm)\s+(?:đường\s+)?(?:link|liên\s+kết|mã|đường\s+dẫn)\b[^.\n]{0,40}\b(?:vào|trong)\b/iu,
    ],
    addressee: [/(?:trả\s+lời|phản\s+hồi|tóm\s+tắt|hướng\s+dẫn|chỉ\s+dẫn|trợ\s+lý|mô\s+hình|ưu\s+tiên|khách\s+hàng|đánh\s+giá|\bAI\b)/iu],
    imperative: [/(?:\bhãy\b|\bphải\b|\bghi\b|\bviết\b|\bthêm\b|\bchèn\b|bỏ\s+qua|\bgửi\b|\bđưa\b|nhấn|truy\s+cập|đăng\s+nhập)/iu],
    you: [/(?:\bbạn\b|trợ\s+lý|mô\s+hình|\bAI\b|mọi\s+câu\s+trả\s+lời|chính\s+sách)/iu],
    roles: ['hệ thống', 'tin nhắn hệ thống', 'nhà phát triển', 'trợ lý', 'công cụ'],
  },
  zh: {
    override: [
      /(?:忽略|无视|忘记|忘掉|忽視|無視|不要理会|不要理會|别管|跳过)(?:掉)?(?:之前|以上|上面|上述|前面|先前|所有|全部|一切|你的|原来|原有)(?:的)?(?:所有|全部|一切)?(?:的)?(?:指令|指示|规则|規則|提示|说明|說明|要求|设定|設定)/u,
      /(?:忽略|无视|忽視|無視)(?:所有|全部|一切)?(?:的)?(?:指令|指示|规则|規則|提示词|系统提示)/u,
      /你现在是(?:一个|一名|一位)|你現在是(?:一個|一名|一位)|从现在起你|從現在起你|从现在开始你|從現在開始你/u,
      /新(?:的)?(?:指令|指示|规则|規則|任务|任務)\s*[:：]/u,
      /(?:开发者|開發者|管理员|管理員|调试)模式/u,
    ],
    reveal: [/(?:输出|显示|打印|告诉我|告訴我|透露|重复|重複|泄露|洩露|给我看|給我看|写出|寫出|列出)(?:一下|完整的|全部的|你的|原始的)?.{0,4}(?:系统提示|系統提示|提示词|提示詞|系统指令|系統指令|你的指令|系统消息|系統消息|初始指令|原始指令|设定|設定)/u],
    directive: [
      /在你的(?:回复|回覆|回答|答复|答覆|摘要|总结|總結|输出|輸出)(?:中|里|裡|末尾|结尾|結尾|开头|開頭)/u,
      /(?:回复|回覆|回答|摘要|总结|總結|输出|輸出)(?:必须|必須|应该|應該|一定要|要)(?:包含|加上|写上|寫上|附上|提到|注明)/u,
    ],
    addressee: [/(?:回复|回覆|回答|摘要|总结|總結|输出|輸出|指令|提示|助手|模型|机器人|機器人|优先级|優先級|类别|類別|客户|客戶|读者|讀者|AI)/u],
    imperative: [/(?:请|請|写|寫|忽略|附上|加上|包含|必须|必須|设为|設為|标记|標記|告诉|告訴|访问|訪問|登录|登錄|点击|點擊|领取|領取)/u],
    you: [/(?:你|您的回复|助手|模型|AI|所有回复|每条回复|政策)/u],
    roles: ['系统', '系統', '系统消息', '系統消息', '开发者', '開發者', '助手', '工具', '系统提示', '系統提示'],
  },
  th: {
    override: [
      /(?:เพิกเฉย|ละเว้น|ลืม|ไม่ต้องสนใจ|ข้าม)(?:ต่อ)?(?:ทุก)?(?:คำสั่ง|คำแนะนำ|ข้อความ|กฎ)(?:ทั้งหมด)?(?:ก่อนหน้า|ข้างบน|ด้านบน|เดิม)?/u,
      /(?:ไม่ต้องสนใจ|ลืม)(?:สิ่งที่|ทุกอย่างที่)?(?:เขียน)?(?:ไว้)?(?:ข้างบน|ด้านบน|ก่อนหน้านี้)/u,
      /ตอนนี้คุณคือ|ต่อจากนี้คุณ/u,
      /คำสั่งใหม่\s*[:：]/u,
    ],
    reveal: [/(?:แสดง|บอก|เปิดเผย|พิมพ์|คัดลอก)(?:ให้ดู)?.{0,6}(?:พรอมต์|prompt|คำสั่งระบบ|คำสั่งของคุณ|คำสั่งตั้งต้น)/iu],
    directive: [/(?:ใน|ท้าย)(?:คำตอบ|การตอบกลับ|สรุป|บทสรุป|รีวิว)(?:ของคุณ)?.{0,40}(?:ใส่|เพิ่ม|แนบ|เขียน|บอก)/u, /(?:ใส่|เพิ่ม|แนบ)(?:ลิงก์|ลิงค์|โค้ด|รหัส)/u],
    addressee: [/(?:คำตอบ|ตอบกลับ|สรุป|คำสั่ง|ผู้ช่วย|โมเดล|ลูกค้า|AI)/u],
    imperative: [/(?:ให้|ใส่|เขียน|เพิ่ม|ต้อง|แนบ|บอก|กรอก|คลิก|เข้าไป)/u],
    you: [/(?:คุณ|ผู้ช่วย|โมเดล|AI|ทุกคำตอบ|นโยบาย)/u],
    roles: ['ระบบ', 'ข้อความระบบ', 'ผู้พัฒนา', 'ผู้ช่วย'],
  },
};
